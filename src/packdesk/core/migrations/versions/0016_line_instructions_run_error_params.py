"""order_lines.instructions (engraving and other per-item inputs); collection_runs.error_params (the reason shown)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('order_lines') as batch:
        batch.add_column(sa.Column('instructions', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('collection_runs') as batch:
        batch.add_column(sa.Column('error_params', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('collection_runs') as batch:
        batch.drop_column('error_params')
    with op.batch_alter_table('order_lines') as batch:
        batch.drop_column('instructions')
