"""appointments feature (slot watches)

Revision ID: 0004_appointments
Revises: 0003_access_journal
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.base import UtcDateTime

revision: str = "0004_appointments"
down_revision: str | None = "0003_access_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slot_watches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.String(length=32), nullable=True),
        sa.Column("specialty_code", sa.String(length=32), nullable=False),
        sa.Column("clinic_id", sa.String(length=32), nullable=True),
        sa.Column("referral_id", sa.String(length=32), nullable=True),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("minute_from", sa.Integer(), nullable=False),
        sa.Column("minute_to", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.Column("auto_book", sa.Boolean(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_hit_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_slot_watches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["linked_people.id"],
            name=op.f("fk_slot_watches_person_id_linked_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_watches")),
    )
    op.create_index(op.f("ix_slot_watches_user_id"), "slot_watches", ["user_id"])
    op.create_index(op.f("ix_slot_watches_person_id"), "slot_watches", ["person_id"])
    op.create_index(op.f("ix_slot_watches_active"), "slot_watches", ["active"])
    op.create_table(
        "watch_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.String(length=32), nullable=False),
        sa.Column("doctor_id", sa.String(length=32), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("found_at", UtcDateTime(), nullable=False),
        sa.Column("appointment_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["slot_watches.id"],
            name=op.f("fk_watch_hits_watch_id_slot_watches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_hits")),
        sa.UniqueConstraint("watch_id", "slot_id", name=op.f("uq_watch_hits_watch_id")),
    )
    op.create_index(op.f("ix_watch_hits_watch_id"), "watch_hits", ["watch_id"])
    op.create_table(
        "watch_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.String(length=128), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_watch_cursors")),
    )


def downgrade() -> None:
    op.drop_table("watch_cursors")
    op.drop_index(op.f("ix_watch_hits_watch_id"), table_name="watch_hits")
    op.drop_table("watch_hits")
    op.drop_index(op.f("ix_slot_watches_active"), table_name="slot_watches")
    op.drop_index(op.f("ix_slot_watches_person_id"), table_name="slot_watches")
    op.drop_index(op.f("ix_slot_watches_user_id"), table_name="slot_watches")
    op.drop_table("slot_watches")
