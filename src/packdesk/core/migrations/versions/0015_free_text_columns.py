"""free text a marketplace fills becomes TEXT; collection_runs.set_aside

A recipient over 100 characters or a product name over 300 failed a whole collection on PostgreSQL (SQLite never
enforced the lengths): names, phones, zip codes, addresses, delivery messages, product and option names and a
recording's order numbers are kept whole now. Identifiers keep their limits; an order whose identifier exceeds
one is set aside, counted in ``collection_runs.set_aside`` (services/collect.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table -> (column, its old length)
WIDENED: dict[str, tuple[tuple[str, int], ...]] = {
    'orders': (('buyer_name', 100), ('recipient_name', 100), ('recipient_phone', 40), ('zip_code', 10),
               ('address', 300), ('delivery_message', 300)),
    'order_lines': (('product_name', 300), ('option_name', 300)),
    'sales_products': (('product_name', 300), ('option_name', 300)),
    'recordings': (('order_nos', 300),),
}


def upgrade() -> None:
    """Upgrade schema."""
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns:
                batch.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text(),
                                   existing_nullable=False)
    with op.batch_alter_table('collection_runs') as batch:
        batch.add_column(sa.Column('set_aside', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema (on PostgreSQL a longer value is cut to the old length)."""
    with op.batch_alter_table('collection_runs') as batch:
        batch.drop_column('set_aside')
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns:
                batch.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length),
                                   existing_nullable=False, postgresql_using=f'left({column}, {length})')
