"""Tables of the appointments feature: slot watches, their hits, the event-feed cursor.

No names, diagnoses or policies here: a watch points at a linked-person row and at backend ids
(doctor, specialty, clinic, referral); what a slot means is read from the backend when shown.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UtcDateTime


class SlotWatch(Base):
    """ "Tell me (or book for me) when a slot like this frees up"."""

    __tablename__ = "slot_watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("linked_people.id", ondelete="CASCADE"), index=True
    )
    # Either a doctor, or a specialty (optionally at one clinic).
    doctor_id: Mapped[str | None] = mapped_column(String(32), default=None)
    specialty_code: Mapped[str] = mapped_column(String(32))
    clinic_id: Mapped[str | None] = mapped_column(String(32), default=None)
    referral_id: Mapped[str | None] = mapped_column(String(32), default=None)
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    # Minutes after Moscow midnight, [from, to).
    minute_from: Mapped[int] = mapped_column(Integer, default=0)
    minute_to: Mapped[int] = mapped_column(Integer, default=24 * 60)
    # Bit n set = weekday n (Monday = 0) is fine.
    weekdays: Mapped[int] = mapped_column(Integer, default=0b1111111)
    auto_book: Mapped[bool] = mapped_column(Boolean, default=False)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=120)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    last_hit_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WatchHit(Base):
    """A slot found for a watch; the "Book it" button carries only this row's id."""

    __tablename__ = "watch_hits"
    __table_args__ = (UniqueConstraint("watch_id", "slot_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    watch_id: Mapped[int] = mapped_column(
        ForeignKey("slot_watches.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[str] = mapped_column(String(32))
    doctor_id: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    found_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set when the watch booked the slot by itself.
    appointment_id: Mapped[str | None] = mapped_column(String(32), default=None)


class WatchCursor(Base):
    """Where the watch engine stopped reading the backend's event feed (one row per reader)."""

    __tablename__ = "watch_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(128), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
