"""return_inspections, return_scans, return_items: returns inspection at the station (issue #21)

A returned parcel opened on camera: the inspection (linked to the original waybill and its outbound pack),
every scan of it, and the items that came out with their condition. Its video is an ordinary recording whose
pack_key is the inspection's key: no change to the recordings table or the hash chain.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 15:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: Union[str, Sequence[str], None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'return_inspections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=36), nullable=False),
        sa.Column('station', sa.String(length=64), nullable=False),
        sa.Column('packer_id', sa.Integer(), nullable=True),
        sa.Column('packer_name', sa.String(length=100), nullable=False),
        sa.Column('return_code', sa.String(length=128), nullable=False),
        sa.Column('waybill_id', sa.Integer(), nullable=True),
        sa.Column('order_nos', sa.Text(), nullable=False),
        sa.Column('original_pack_session_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.Enum('open', 'completed', 'cancelled', 'timed_out', 'abandoned', 'closed',
                                     name='packoutcome', native_enum=False, create_constraint=False, length=24),
                  nullable=False),
        sa.ForeignKeyConstraint(['packer_id'], ['packers.id'], name=op.f('fk_return_inspections_packer_id_packers')),
        sa.ForeignKeyConstraint(['waybill_id'], ['waybills.id'],
                                name=op.f('fk_return_inspections_waybill_id_waybills')),
        sa.ForeignKeyConstraint(['original_pack_session_id'], ['pack_sessions.id'],
                                name=op.f('fk_return_inspections_original_pack_session_id_pack_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_inspections')),
        sa.UniqueConstraint('key', name=op.f('uq_return_inspections_key')),
    )
    op.create_index(op.f('ix_return_inspections_return_code'), 'return_inspections', ['return_code'], unique=False)
    op.create_index(op.f('ix_return_inspections_waybill_id'), 'return_inspections', ['waybill_id'], unique=False)
    op.create_index(op.f('ix_return_inspections_started_at'), 'return_inspections', ['started_at'], unique=False)
    op.create_table(
        'return_scans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inspection_id', sa.Integer(), nullable=True),
        sa.Column('station', sa.String(length=64), nullable=False),
        sa.Column('packer_name', sa.String(length=100), nullable=False),
        sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('code', sa.String(length=128), nullable=False),
        sa.Column('source', sa.Enum('wedge', 'serial', 'manual', name='scansource', native_enum=False,
                                    create_constraint=False, length=24), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('accepted', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('condition', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['inspection_id'], ['return_inspections.id'],
                                name=op.f('fk_return_scans_inspection_id_return_inspections')),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_return_scans_item_id_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_scans')),
    )
    op.create_index(op.f('ix_return_scans_inspection_id'), 'return_scans', ['inspection_id'], unique=False)
    op.create_table(
        'return_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inspection_id', sa.Integer(), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=128), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('expected', sa.Boolean(), nullable=False),
        sa.Column('condition', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['inspection_id'], ['return_inspections.id'],
                                name=op.f('fk_return_items_inspection_id_return_inspections')),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_return_items_item_id_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_items')),
    )
    op.create_index(op.f('ix_return_items_inspection_id'), 'return_items', ['inspection_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_return_items_inspection_id'), table_name='return_items')
    op.drop_table('return_items')
    op.drop_index(op.f('ix_return_scans_inspection_id'), table_name='return_scans')
    op.drop_table('return_scans')
    op.drop_index(op.f('ix_return_inspections_started_at'), table_name='return_inspections')
    op.drop_index(op.f('ix_return_inspections_waybill_id'), table_name='return_inspections')
    op.drop_index(op.f('ix_return_inspections_return_code'), table_name='return_inspections')
    op.drop_table('return_inspections')
