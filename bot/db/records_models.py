"""Tables of the records feature: the journal of who viewed which card through the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UtcDateTime


class RecordView(Base):
    """One view of a card's section list, document, chart or PDF.

    Ids only: the viewer (bot user row), the card (the keyed hash of the backend patient id, as
    in `LinkedPerson.patient_ref_hash`), the section code and the backend entry id; never
    titles, values or names. Goes with the viewer's row (`/forget`).
    """

    __tablename__ = "record_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    card_hash: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    section: Mapped[str | None] = mapped_column(String(16), default=None)
    entry_id: Mapped[str | None] = mapped_column(String(64), default=None)
    viewed_at: Mapped[datetime] = mapped_column(UtcDateTime)
