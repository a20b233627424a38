"""scan_events.quantity and sales_products.image_url: multi-packs counted at once, and product pictures

A 12-, 24- or 100-unit line can be counted by a count barcode confirmed by the item's scan: the scan event
records how many units it counted (1 for every scan stored before this revision). A catalogue sync keeps each
sales product's representative image URL; the picture itself is cached on the PC by the URL's hash.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('scan_events') as batch:
        batch.add_column(sa.Column('quantity', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('sales_products') as batch:
        batch.add_column(sa.Column('image_url', sa.String(length=1000), nullable=False, server_default=''))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('sales_products') as batch:
        batch.drop_column('image_url')
    with op.batch_alter_table('scan_events') as batch:
        batch.drop_column('quantity')
