"""recording_chain: link version and kind (recording, deleted)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 08:10:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema. Links made before keep version 1 (what their hash covers)."""
    with op.batch_alter_table('recording_chain') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch.add_column(sa.Column('kind', sa.String(length=12), server_default='recording', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('recording_chain') as batch:
        batch.drop_column('kind')
        batch.drop_column('version')
