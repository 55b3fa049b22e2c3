"""What the bot keeps about a user, and deleting it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendError
from backend_client.models import Requester
from backend_client.protocol import RecordsBackend
from bot.db.models import User
from bot.services import people


@dataclass(frozen=True, slots=True)
class StoredSummary:
    has_consent: bool
    linked_people: int
    has_own_card: bool
    """Whether "who has access to my card" and "who viewed my card" can be shown."""


async def stored_summary(session: AsyncSession, user: User, now: datetime) -> StoredSummary:
    return StoredSummary(
        has_consent=user.has_consent,
        linked_people=await people.count_people(session, user),
        has_own_card=await people.own_card(session, user, now) is not None,
    )


@dataclass(frozen=True, slots=True)
class AccessGiven:
    """Who has access to the user's own card, for the withdraw/forget questions.

    `names` is None when the backend could not tell right now (the texts then say "if any")."""

    has_own_card: bool
    names: list[str] | None


async def access_given(
    session: AsyncSession, backend: RecordsBackend, user: User, requester: Requester, now: datetime
) -> AccessGiven:
    """The recipients of access to the user's own card, asked of the backend now. A question
    must not fail because the backend is slow or down: then the names are unknown."""
    if await people.own_card(session, user, now) is None:
        return AccessGiven(has_own_card=False, names=[])
    try:
        grants = await people.grants_given(session, backend, user, requester, now)
    except people.AccessRefused:
        return AccessGiven(has_own_card=False, names=[])
    except BackendError:
        return AccessGiven(has_own_card=True, names=None)
    return AccessGiven(has_own_card=True, names=[g.requester_name for g in grants])


async def forget_user(
    session: AsyncSession,
    user: User,
    now: datetime,
    backend: RecordsBackend | None = None,
    requester: Requester | None = None,
) -> None:
    """End all access the bot set up, both ways, then delete the user's row; tables that hang
    off it cascade (ON DELETE CASCADE).

    First everyone's access to the user's own card (while the user's own grant still proves
    ownership), then every grant the user holds (their own card, relatives, children). After
    /forget nobody keeps access the user could no longer see or revoke from the bot; who wants
    the access they gave to stay withdraws consent instead. A backend that is down stops the
    deletion (nothing is lost; the user retries)."""
    if backend is not None and requester is not None:
        await people.revoke_all_given(session, backend, user, requester, now)
        await people.revoke_everything(session, backend, user, requester)
    await session.execute(delete(User).where(User.id == user.id))
    await session.flush()
