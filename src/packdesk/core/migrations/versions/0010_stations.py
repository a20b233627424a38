"""stations: which PC is a station name

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 07:40:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('stations',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('host_id', sa.String(length=36), nullable=False),
    sa.Column('host_name', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_stations'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('stations')
