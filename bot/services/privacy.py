"""What the bot keeps about a user, and deleting it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User


@dataclass(frozen=True, slots=True)
class StoredSummary:
    has_consent: bool
    linked_people: int


async def stored_summary(session: AsyncSession, user: User) -> StoredSummary:
    # Linked people arrive with the policies feature; until then there are none to count.
    return StoredSummary(has_consent=user.has_consent, linked_people=0)


async def forget_user(session: AsyncSession, user: User) -> None:
    """Delete the user's row; tables that hang off it cascade (ON DELETE CASCADE)."""
    await session.execute(delete(User).where(User.id == user.id))
    await session.flush()
