from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UtcDateTime

TELEGRAM = "telegram"
MAX = "max"
CHANNELS = (TELEGRAM, MAX)


class User(Base):
    """A person writing to the bot from one messenger. No names or health data: only what the
    bot needs to work."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "telegram_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The messenger's user id (Telegram's, or MAX's when `channel` says so): unique per channel.
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    channel: Mapped[str] = mapped_column(String(16), default=TELEGRAM, server_default=TELEGRAM)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    consent_version: Mapped[str | None] = mapped_column(String(16), default=None)
    consent_given_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Set when Telegram answers 403 (blocked, deactivated); cleared when the user writes again.
    # Set on Telegram's block update or a 403; cleared when the user unblocks or writes again.
    blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def messenger_key(self) -> str:
        """Who this is across messengers, for pseudonyms and the backend's requester id: the
        Telegram id as it always was, `max:<id>` for MAX (ids are unique per messenger only)."""
        if self.channel in (TELEGRAM, None):  # None: a row not yet flushed
            return str(self.telegram_id)
        return f"{self.channel}:{self.telegram_id}"

    @property
    def has_consent(self) -> bool:
        return self.consent_given_at is not None and self.consent_withdrawn_at is None


class PhoneCheck(Base):
    """That the user shared their own phone with the contact button: a keyed hash, no number."""

    __tablename__ = "phone_checks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    phone_hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LinkedPerson(Base):
    """A card the user may act on (their own, a relative's, a child's) through a backend grant.

    The label the user gave ("Мама") and the policy are encrypted; the patient is found by a
    keyed hash of the backend's patient id (to tell an owner who uses the bot about new access).
    """

    __tablename__ = "linked_people"
    __table_args__ = (UniqueConstraint("user_id", "patient_ref_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(32))
    grant_id: Mapped[str] = mapped_column(String(64))
    patient_ref_hash: Mapped[str] = mapped_column(String(64), index=True)
    label_enc: Mapped[bytes] = mapped_column(LargeBinary)
    policy_enc: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # The grant was revoked (its owner, in the bot or on the portal): no longer offered.
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LinkDraft(Base):
    """A linking conversation in progress; FSM data holds only this row's id.

    Deleted when the link is made, and replaced when the user starts another one.
    """

    __tablename__ = "link_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    label_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    policy_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    scope: Mapped[str | None] = mapped_column(String(32), default=None)
    access_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    challenge_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
