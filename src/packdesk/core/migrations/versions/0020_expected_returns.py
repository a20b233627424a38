"""expected_returns: returns and exchanges collected from the marketplaces, and the runs' count of them

SmartStore's RETURN/EXCHANGE claims and Coupang's return receipts are kept, one per (account, claim), with the
lines they bring back, the pickup waybill and the marketplace's status and reason, so the station knows a
returned parcel when it arrives (services/returns_expected.py). Each collection run counts them (0 before).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0020'
down_revision: Union[str, Sequence[str], None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'expected_returns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('market', sa.String(length=24), nullable=False),
        sa.Column('claim_id', sa.String(length=64), nullable=False),
        sa.Column('claim_type', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=40), nullable=False),
        sa.Column('order_no', sa.String(length=64), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('reason_code', sa.String(length=100), nullable=False),
        sa.Column('reason_text', sa.Text(), nullable=False),
        sa.Column('courier_code', sa.String(length=32), nullable=False),
        sa.Column('tracking_number', sa.String(length=40), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('collected_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['channel_accounts.id'],
                                name=op.f('fk_expected_returns_account_id_channel_accounts')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_expected_returns_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_expected_returns')),
        sa.UniqueConstraint('account_id', 'claim_id', name=op.f('uq_expected_returns_account_id_claim_id')),
    )
    op.create_index(op.f('ix_expected_returns_order_no'), 'expected_returns', ['order_no'], unique=False)
    op.create_index(op.f('ix_expected_returns_order_id'), 'expected_returns', ['order_id'], unique=False)
    op.create_index(op.f('ix_expected_returns_tracking_number'), 'expected_returns', ['tracking_number'],
                    unique=False)
    op.create_table(
        'expected_return_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('expected_return_id', sa.Integer(), nullable=False),
        sa.Column('product_order_id', sa.String(length=64), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('line_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['expected_return_id'], ['expected_returns.id'],
                                name=op.f('fk_expected_return_lines_expected_return_id_expected_returns')),
        sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'],
                                name=op.f('fk_expected_return_lines_line_id_order_lines')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_expected_return_lines')),
        sa.UniqueConstraint('expected_return_id', 'product_order_id',
                            name=op.f('uq_expected_return_lines_expected_return_id_product_order_id')),
    )
    op.create_index(op.f('ix_expected_return_lines_line_id'), 'expected_return_lines', ['line_id'], unique=False)
    with op.batch_alter_table('collection_runs') as batch:
        batch.add_column(sa.Column('returns', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('collection_runs') as batch:
        batch.drop_column('returns')
    op.drop_index(op.f('ix_expected_return_lines_line_id'), table_name='expected_return_lines')
    op.drop_table('expected_return_lines')
    op.drop_index(op.f('ix_expected_returns_tracking_number'), table_name='expected_returns')
    op.drop_index(op.f('ix_expected_returns_order_id'), table_name='expected_returns')
    op.drop_index(op.f('ix_expected_returns_order_no'), table_name='expected_returns')
    op.drop_table('expected_returns')
