"""access journal (records feature)

Revision ID: 0003_access_journal
Revises: 0002_linked_people
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.base import UtcDateTime

revision: str = "0003_access_journal"
down_revision: str | None = "0002_linked_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("card_hash", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=True),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("viewed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_record_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_views")),
    )
    op.create_index(op.f("ix_record_views_user_id"), "record_views", ["user_id"])
    op.create_index(op.f("ix_record_views_card_hash"), "record_views", ["card_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_record_views_card_hash"), table_name="record_views")
    op.drop_index(op.f("ix_record_views_user_id"), table_name="record_views")
    op.drop_table("record_views")
