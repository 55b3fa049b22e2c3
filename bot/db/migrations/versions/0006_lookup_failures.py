"""lookup failures (the bot's count of wrong birth dates per account and policy)

Revision ID: 0006_lookup_failures
Revises: 0005_notifications
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.base import UtcDateTime

revision: str = "0006_lookup_failures"
down_revision: str | None = "0005_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lookup_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("requester_id", sa.String(length=64), nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_failures")),
    )
    for column in ("requester_id", "policy_hash", "failed_at"):
        op.create_index(op.f(f"ix_lookup_failures_{column}"), "lookup_failures", [column])


def downgrade() -> None:
    for column in ("failed_at", "policy_hash", "requester_id"):
        op.drop_index(op.f(f"ix_lookup_failures_{column}"), table_name="lookup_failures")
    op.drop_table("lookup_failures")
