"""parcels: lines that ship together get a stable key; waybills bind to them (courier export/import, slips)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 06:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'parcels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=20), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('group_key', sa.String(length=64), nullable=False),
        sa.Column('waybill_id', sa.Integer(), nullable=True),
        sa.Column('waybill_source', sa.String(length=80), nullable=False),
        sa.Column('waybill_bound_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['channel_accounts.id'],
                                name=op.f('fk_parcels_account_id_channel_accounts')),
        sa.ForeignKeyConstraint(['waybill_id'], ['waybills.id'], name=op.f('fk_parcels_waybill_id_waybills')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parcels')),
        sa.UniqueConstraint('key', name=op.f('uq_parcels_key')),
        sa.UniqueConstraint('waybill_id', name=op.f('uq_parcels_waybill_id')),
    )
    op.create_index('ix_parcels_account_id_group_key', 'parcels', ['account_id', 'group_key'], unique=False)
    op.create_table(
        'parcel_claims',
        sa.Column('parcel_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('station', sa.String(length=64), nullable=False),
        sa.Column('packer_name', sa.String(length=100), nullable=False),
        sa.Column('pack_key', sa.String(length=36), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_parcel_claims_parcel_id_parcels')),
        sa.PrimaryKeyConstraint('parcel_id', name=op.f('pk_parcel_claims')),
    )
    with op.batch_alter_table('order_lines') as batch:
        batch.add_column(sa.Column('parcel_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_order_lines_parcel_id'), ['parcel_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_order_lines_parcel_id_parcels'), 'parcels', ['parcel_id'], ['id'])
    with op.batch_alter_table('pack_sessions') as batch:
        batch.alter_column('waybill_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('parcel_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_pack_sessions_parcel_id'), ['parcel_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_pack_sessions_parcel_id_parcels'), 'parcels', ['parcel_id'], ['id'])
        batch.create_index('uq_pack_sessions_completed_parcel', ['parcel_id'], unique=True,
                           sqlite_where=sa.text("outcome = 'completed'"),
                           postgresql_where=sa.text("outcome = 'completed'"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('pack_sessions') as batch:
        batch.drop_index('uq_pack_sessions_completed_parcel')
        batch.drop_constraint(batch.f('fk_pack_sessions_parcel_id_parcels'), type_='foreignkey')
        batch.drop_index(batch.f('ix_pack_sessions_parcel_id'))
        batch.drop_column('parcel_id')
        batch.alter_column('waybill_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('order_lines') as batch:
        batch.drop_constraint(batch.f('fk_order_lines_parcel_id_parcels'), type_='foreignkey')
        batch.drop_index(batch.f('ix_order_lines_parcel_id'))
        batch.drop_column('parcel_id')
    op.drop_table('parcel_claims')
    op.drop_index('ix_parcels_account_id_group_key', table_name='parcels')
    op.drop_table('parcels')
