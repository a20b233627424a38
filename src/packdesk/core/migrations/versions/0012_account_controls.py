"""channel_accounts: paused, removed_at

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 07:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('channel_accounts') as batch:
        batch.add_column(sa.Column('paused', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('channel_accounts') as batch:
        batch.drop_column('removed_at')
        batch.drop_column('paused')
