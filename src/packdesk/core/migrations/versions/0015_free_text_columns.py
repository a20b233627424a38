"""free text a marketplace fills becomes TEXT; collection_runs.set_aside

A recipient over 100 characters or a product name over 300 failed a whole collection on PostgreSQL (SQLite never
enforced the lengths): names, phones, zip codes, addresses, delivery messages, product and option names and a
recording's order numbers are kept whole now. Identifiers keep their limits; an order whose identifier exceeds
one is set aside, counted in ``collection_runs.set_aside`` (services/collect.py).

On SQLite, VARCHAR(n) and TEXT have the same affinity and the same stored form, so only the declared type in
the schema is changed there, in place (SQLite's documented procedure for changes that leave the stored data as
it is): rebuilding ``orders`` and ``order_lines`` would drop tables that other rows point at, which SQLite's
foreign keys refuse inside the migration's transaction.

Revision ID: 0015
Revises: 0013 (0014 once the parcels revision is on main)
Create Date: 2026-12-06 12:00:00

"""
import re
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0013'
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


def _sqlite_declared_types(to_text: bool) -> None:
    """Rewrite the columns' declared types in ``sqlite_master`` (the rows stay as they are)."""
    conn = op.get_bind()
    version = conn.exec_driver_sql('PRAGMA schema_version').scalar()
    conn.exec_driver_sql('PRAGMA writable_schema=ON')
    for table, columns in WIDENED.items():
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                   (table,)).scalar()
        for column, length in columns:
            old, new = (rf'VARCHAR\({length}\)', 'TEXT') if to_text else ('TEXT', f'VARCHAR({length})')
            sql, found = re.subn(rf'(?<![\w"])("?{column}"? ){old}', rf'\g<1>{new}', sql, count=1)
            if not found:
                raise RuntimeError(f'{table}.{column}: declared type not found in {sql!r}')
        conn.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
    conn.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
    conn.exec_driver_sql('PRAGMA writable_schema=OFF')


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_declared_types(to_text=True)
    else:
        for table, columns in WIDENED.items():
            for column, length in columns:
                op.alter_column(table, column, existing_type=sa.String(length=length), type_=sa.Text(),
                                existing_nullable=False)
    with op.batch_alter_table('collection_runs') as batch:
        batch.add_column(sa.Column('set_aside', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema (over-long values are cut to the old lengths on PostgreSQL)."""
    with op.batch_alter_table('collection_runs') as batch:
        batch.drop_column('set_aside')
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_declared_types(to_text=False)
        return
    for table, columns in WIDENED.items():
        for column, length in columns:
            op.alter_column(table, column, existing_type=sa.Text(), type_=sa.String(length=length),
                            existing_nullable=False, postgresql_using=f'left({column}, {length})')
