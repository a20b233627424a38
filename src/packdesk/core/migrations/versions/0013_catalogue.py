"""sales_products: marketplace status, seller code, last catalogue sync

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 08:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('sales_products') as batch:
        batch.add_column(sa.Column('status', sa.String(length=20), server_default='', nullable=False))
        batch.add_column(sa.Column('seller_code', sa.String(length=128), server_default='', nullable=False))
        batch.add_column(sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('sales_products') as batch:
        batch.drop_column('synced_at')
        batch.drop_column('seller_code')
        batch.drop_column('status')
