"""video_uploads: completed packs' videos queued for the seller's storage (the buyer's video link)

One row per recording (unique), so a video is uploaded once; the uploader claims a row before it uploads and
marks it done after; a station that dies mid-upload resumes it at its next pass (the storage keeps the parts).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 13:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('video_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('state', sa.Enum('pending', 'uploading', 'done', 'failed', name='uploadstate', native_enum=False, length=24), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('bytes_done', sa.BigInteger(), nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error_code', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_video_uploads_recording_id_recordings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_video_uploads')),
    sa.UniqueConstraint('recording_id', name=op.f('uq_video_uploads_recording_id'))
    )
    with op.batch_alter_table('video_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_video_uploads_station'), ['station'], unique=False)
        batch_op.create_index('ix_video_uploads_due', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('video_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_video_uploads_due')
        batch_op.drop_index(batch_op.f('ix_video_uploads_station'))
    op.drop_table('video_uploads')
