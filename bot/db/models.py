from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UtcDateTime, utcnow


class User(Base):
    """A Telegram user of the bot. No names or health data: only what the bot needs to work."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    consent_version: Mapped[str | None] = mapped_column(String(16), default=None)
    consent_given_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Set when Telegram answers 403 (blocked, deactivated); cleared when the user writes again.
    blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def has_consent(self) -> bool:
        return self.consent_given_at is not None and self.consent_withdrawn_at is None
