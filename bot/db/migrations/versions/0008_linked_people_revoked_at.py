"""linked_people.revoked_at: the grant behind the row was revoked (by the card's owner, in the
bot or on the portal): the row is no longer offered, and a tap on it says "revoked", not
"expired"

Revision ID: 0008_linked_people_revoked_at
Revises: 0007_user_channel
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.base import UtcDateTime

revision: str = "0008_linked_people_revoked_at"
down_revision: str | None = "0007_user_channel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("linked_people") as batch:
        batch.add_column(sa.Column("revoked_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("linked_people") as batch:
        batch.drop_column("revoked_at")
