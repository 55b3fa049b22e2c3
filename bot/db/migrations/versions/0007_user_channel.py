"""users.channel: which messenger a user writes from (Telegram or MAX)

A person's id is unique only within their messenger, so `telegram_id` (the messenger's user
id) is unique per channel, not on its own.

Revision ID: 0007_user_channel
Revises: 0006_lookup_failures
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_user_channel"
down_revision: str | None = "0006_lookup_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="telegram")
        )
        batch.drop_index("ix_users_telegram_id")
        batch.create_index("ix_users_telegram_id", ["telegram_id"], unique=False)
        batch.create_unique_constraint("uq_users_channel", ["channel", "telegram_id"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_channel", type_="unique")
        batch.drop_index("ix_users_telegram_id")
        batch.create_index("ix_users_telegram_id", ["telegram_id"], unique=True)
        batch.drop_column("channel")
