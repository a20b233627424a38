"""indexes for a station's reads on a season's history: the lines still to pack (status, waybill, parcel), a
station's packs by outcome and end and newest first, and orders by number

Today's counts, read after every completed pack, walked every order line and every pack session, and the
station's last pack, read at start, sorted every pack the station ever made: with a year of history that is most
of the database, each time; a returns station looked a code up as an order number by reading every order
(tests/services/test_station_scale.py).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 06:30:00

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index('ix_order_lines_status_waybill_parcel', ['status', 'waybill_id', 'parcel_id'],
                              unique=False)
    with op.batch_alter_table('pack_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_pack_sessions_station_outcome_ended', ['station', 'outcome', 'ended_at'],
                              unique=False)
        batch_op.create_index('ix_pack_sessions_station_id', ['station', 'id'], unique=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_order_no', ['order_no'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_order_no')
    with op.batch_alter_table('pack_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_pack_sessions_station_id')
        batch_op.drop_index('ix_pack_sessions_station_outcome_ended')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_order_lines_status_waybill_parcel')
