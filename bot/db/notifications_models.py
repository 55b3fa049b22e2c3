"""Notification tables: the outbox, the feed cursor, processed event ids, per-user settings.

Only ids, kinds and times live here: the text is rendered when the message is sent, in the
recipient's language and after re-checking that they may still be told.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UtcDateTime


class OutboxMessage(Base):
    """One notification for one user; `dedup_key` makes the same (event, recipient) impossible
    twice. Claimed rows carry a lease: a worker that dies mid-send loses it on expiry."""

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_due", "status", "priority", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # linked_people.id of the patient the message is about (re-checked at send time).
    person_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # The backend id of what it is about (appointment, entry, watch hit): lets a cancelled
    # visit drop its pending reminders.
    subject: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON of ids and epochs only
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)  # 0 urgent, 1 normal
    status: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(64), default=None)  # why, never a text
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class EventCursor(Base):
    """Where the worker is in the backend's event feed."""

    __tablename__ = "notification_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProcessedEvent(Base):
    """Backend event ids already turned into outbox rows (from the feed or the push endpoint)."""

    __tablename__ = "notification_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NotificationPrefs(Base):
    """A user's switches, quiet hours (minutes after midnight, Moscow) and reminder offsets."""

    __tablename__ = "notification_prefs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    results: Mapped[bool] = mapped_column(Boolean, default=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    changes: Mapped[bool] = mapped_column(Boolean, default=True)
    slots: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_start: Mapped[int] = mapped_column(SmallInteger, default=22 * 60)
    quiet_end: Mapped[int] = mapped_column(SmallInteger, default=8 * 60)
    reminder_offsets: Mapped[str] = mapped_column(String(64), default="1440,120")  # minutes
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
