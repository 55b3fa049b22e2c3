"""The journal of who viewed a card through the bot, and the owner's view of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.records_models import RecordView

JOURNAL_LIMIT = 30


class ViewAction(StrEnum):
    LIST = "list"
    DOCUMENT = "document"
    CHART = "chart"
    PDF = "pdf"
    EXPORT = "export"


@dataclass(frozen=True, slots=True)
class JournalLine:
    at: datetime
    by_owner: bool
    """Viewed by the owner themselves; other viewers are not named (the bot keeps no names)."""
    action: ViewAction
    section: str | None


async def record_view(
    session: AsyncSession,
    viewer_id: int,
    card_hash: str,
    now: datetime,
    action: ViewAction,
    section: str | None = None,
    entry_id: str | None = None,
) -> None:
    session.add(
        RecordView(
            user_id=viewer_id,
            card_hash=card_hash,
            action=action.value,
            section=section,
            entry_id=entry_id,
            viewed_at=now,
        )
    )
    await session.flush()


async def views_of(
    session: AsyncSession, card_hash: str, owner_id: int, limit: int = JOURNAL_LIMIT
) -> list[JournalLine]:
    """The newest views of the card, the owner's own ones marked as such."""
    rows = await session.scalars(
        select(RecordView)
        .where(RecordView.card_hash == card_hash)
        .order_by(RecordView.viewed_at.desc(), RecordView.id.desc())
        .limit(limit)
    )
    return [
        JournalLine(r.viewed_at, r.user_id == owner_id, ViewAction(r.action), r.section)
        for r in rows
    ]
