"""What the bot keeps about a user, and deleting it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Requester
from backend_client.protocol import RecordsBackend
from bot.db.models import User
from bot.services import people


@dataclass(frozen=True, slots=True)
class StoredSummary:
    has_consent: bool
    linked_people: int


async def stored_summary(session: AsyncSession, user: User) -> StoredSummary:
    return StoredSummary(
        has_consent=user.has_consent, linked_people=await people.count_people(session, user)
    )


async def forget_user(
    session: AsyncSession,
    user: User,
    backend: RecordsBackend | None = None,
    requester: Requester | None = None,
) -> None:
    """Revoke the user's backend grants, then delete the user's row; tables that hang off it
    cascade (ON DELETE CASCADE). A backend that is down stops the deletion (nothing is lost;
    the user retries) rather than leaving grants nobody can see any more."""
    if backend is not None and requester is not None:
        await people.revoke_everything(session, backend, user, requester)
    await session.execute(delete(User).where(User.id == user.id))
    await session.flush()
