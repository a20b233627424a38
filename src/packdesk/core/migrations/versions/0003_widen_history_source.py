"""line_status_history.source: 40 -> 80 characters ("pack:<uuid>" is 41; SQLite never enforced it,
PostgreSQL does)

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("line_status_history", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=40), type_=sa.String(length=80),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("line_status_history", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=80), type_=sa.String(length=40),
                              existing_nullable=False)
