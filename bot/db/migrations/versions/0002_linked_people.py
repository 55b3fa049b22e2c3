"""linked people, link drafts, phone checks

Revision ID: 0002_linked_people
Revises: 0001_users
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.base import UtcDateTime

revision: str = "0002_linked_people"
down_revision: str | None = "0001_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "phone_checks",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_at", UtcDateTime(), nullable=False),
        _user_fk("phone_checks"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_phone_checks")),
    )
    op.create_table(
        "linked_people",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("patient_ref_hash", sa.String(length=64), nullable=False),
        sa.Column("label_enc", sa.LargeBinary(), nullable=False),
        sa.Column("policy_enc", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _user_fk("linked_people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linked_people")),
        sa.UniqueConstraint("user_id", "patient_ref_hash", name=op.f("uq_linked_people_user_id")),
    )
    op.create_index(op.f("ix_linked_people_user_id"), "linked_people", ["user_id"])
    op.create_index(
        op.f("ix_linked_people_patient_ref_hash"), "linked_people", ["patient_ref_hash"]
    )
    op.create_table(
        "link_drafts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("label_enc", sa.LargeBinary(), nullable=True),
        sa.Column("policy_enc", sa.LargeBinary(), nullable=True),
        sa.Column("birth_date_enc", sa.LargeBinary(), nullable=True),
        sa.Column("scope", sa.String(length=32), nullable=True),
        sa.Column("access_expires_at", UtcDateTime(), nullable=True),
        sa.Column("challenge_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _user_fk("link_drafts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_drafts")),
    )
    op.create_index(op.f("ix_link_drafts_user_id"), "link_drafts", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_link_drafts_user_id"), table_name="link_drafts")
    op.drop_table("link_drafts")
    op.drop_index(op.f("ix_linked_people_patient_ref_hash"), table_name="linked_people")
    op.drop_index(op.f("ix_linked_people_user_id"), table_name="linked_people")
    op.drop_table("linked_people")
    op.drop_table("phone_checks")
