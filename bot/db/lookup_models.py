"""The bot's own count of wrong (policy, birth date) look-ups (the caps: `backend_client.lockout`).

The bot counts even though the backend does, because a backend behind another adapter may not.
A row per failure, nothing personal: the requester pseudonym the backend knows the Telegram
account by (`bot.crypto.requester_id_for`) and a keyed hash of the policy number as typed. Not
tied to the user's row on purpose: `/forget` does not reset a lock-out; rows go after a day.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UtcDateTime


class LookupFailure(Base):
    """One look-up the backend answered "not found" (unknown policy or wrong birth date)."""

    __tablename__ = "lookup_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requester_id: Mapped[str] = mapped_column(String(64), index=True)
    policy_hash: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
