"""order_lines.courier_code: the courier a line's source named before any tracking number

An Excel order sheet may name the courier of a row that has no tracking number yet (the seller ships some orders
with one courier, some with another); until now it was dropped, and the courier export sent every parcel with
whichever template was chosen. NULL: no courier named (every line stored before this revision).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('order_lines') as batch:
        batch.add_column(sa.Column('courier_code', sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('order_lines') as batch:
        batch.drop_column('courier_code')
