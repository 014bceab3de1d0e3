"""Create the task table and its listing index (feature 001-user-tasks).

Revision ID: 0001
Revises:
Create Date: 2026-01-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``task`` and ``ix_task_user_id_created_at`` (data-model.md)."""
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_user_id_created_at", "task", ["user_id", sa.text("created_at DESC")])


def downgrade() -> None:
    """Drop the index, then the table (all task data is lost)."""
    op.drop_index("ix_task_user_id_created_at", table_name="task")
    op.drop_table("task")
