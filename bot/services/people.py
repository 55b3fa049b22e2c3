"""Whose cards a user may act on, and the check every patient-touching action goes through.

A bot row (`LinkedPerson`) is only a pointer to a backend grant. Before acting on a patient the
bot checks, at that moment: the row is this user's, it has not expired (the clock, not a cached
flag), its scope is enough, and where it matters the backend still knows the grant as active.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import AccessDenied, NotFound
from backend_client.models import Grant, Relation, Requester, Scope
from backend_client.protocol import RecordsBackend
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson, User
from bot.logs import log_event, pseudonym
from bot.services.linking import PURPOSE_LABEL

logger = logging.getLogger(__name__)

PURPOSE_GRANT_REF = "grant-ref"
REMEMBERED_PERSON_KEY = "person_id"
"""FSM data key of the last chosen person (a row id) within the conversation."""


class AccessRefused(Exception):
    """The user may not act on this person now; `reason` is a machine hint for the message."""

    NOT_YOURS = "not_yours"
    EXPIRED = "expired"
    SCOPE = "scope"
    REVOKED = "revoked"
    NO_OWN_CARD = "no_own_card"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Person:
    """What the messenger shows about a linked person: a row id, never a policy or patient id."""

    id: int
    label: str
    relation: Relation
    scope: Scope
    expires_at: datetime | None


async def requester_name(
    session: AsyncSession, cipher: FieldCipher, user: User, fallback: str, now: datetime
) -> str:
    """How the owner's SMS names the user: the name on their own linked card, else Telegram's."""
    own = await own_card(session, user, now)
    if own is not None:
        return cipher.decrypt(own.label_enc, purpose=PURPOSE_LABEL)
    return fallback


def is_current(person: LinkedPerson, now: datetime) -> bool:
    if person.revoked_at is not None:
        return False
    return person.expires_at is None or now < person.expires_at


def to_person(cipher: FieldCipher, row: LinkedPerson) -> Person:
    return Person(
        id=row.id,
        label=cipher.decrypt(row.label_enc, purpose=PURPOSE_LABEL),
        relation=Relation(row.relation),
        scope=Scope(row.scope),
        expires_at=row.expires_at,
    )


_RELATION_ORDER = {Relation.SELF.value: 0, Relation.RELATIVE.value: 1, Relation.CHILD.value: 2}


async def _rows(session: AsyncSession, user: User) -> list[LinkedPerson]:
    rows = await session.scalars(select(LinkedPerson).where(LinkedPerson.user_id == user.id))
    return sorted(rows, key=lambda r: (_RELATION_ORDER.get(r.relation, 9), r.id))


async def drop_inactive(
    session: AsyncSession,
    backend: RecordsBackend,
    user: User,
    requester_id: str,
    now: datetime,
) -> int:
    """Forget rows whose grant is over: expired by the clock, or no longer active at the backend
    (revoked by the owner, a child who turned 15). Returns how many went."""
    active = {g.grant_id for g in await backend.list_grants_received(requester_id)}
    gone = [
        r for r in await _rows(session, user) if not is_current(r, now) or r.grant_id not in active
    ]
    for row in gone:
        await session.delete(row)
    await session.flush()
    return len(gone)


async def end_links_of_grant(
    session: AsyncSession, grant_id: str, now: datetime
) -> list[LinkedPerson]:
    """The bot's rows that acted through `grant_id` (revoked: by its owner in the bot, on the
    portal, or by /forget) end now: no list or picker offers them any more. Returns every row
    of the grant (one the bot already ended when its owner revoked in the bot included)."""
    rows = list(
        await session.scalars(select(LinkedPerson).where(LinkedPerson.grant_id == grant_id))
    )
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = now
    await session.flush()
    return rows


async def list_people(
    session: AsyncSession, cipher: FieldCipher, user: User, now: datetime
) -> list[Person]:
    """The user's current people (own card first), as the bot DB knows them right now."""
    return [to_person(cipher, r) for r in await _rows(session, user) if is_current(r, now)]


async def own_card(session: AsyncSession, user: User, now: datetime) -> LinkedPerson | None:
    rows = await session.scalars(
        select(LinkedPerson).where(
            LinkedPerson.user_id == user.id, LinkedPerson.relation == Relation.SELF.value
        )
    )
    return next((r for r in rows if is_current(r, now)), None)


async def count_people(session: AsyncSession, user: User) -> int:
    return len(await _rows(session, user))


def _deny(user: User, person_id: object, reason: str, action: str) -> AccessRefused:
    log_denied(user, person_id, reason, action)
    return AccessRefused(reason)


def log_denied(user: User, person_id: object, reason: str, action: str) -> None:
    """A security event: pseudonyms and row ids only, never a label, policy or patient id."""
    log_event(
        logger,
        "security.denied",
        logging.WARNING,
        user=pseudonym(user.messenger_key),
        person_id=person_id if isinstance(person_id, int) else None,
        reason=reason,
        action=action,
    )


async def check_access(
    session: AsyncSession,
    backend: RecordsBackend | None,
    user: User,
    person_id: object,
    needed: Scope,
    requester: Requester | None = None,
    *,
    action: str = "use",
    now: datetime,
) -> LinkedPerson:
    """The row if the current user may act on this person for `needed` at this moment.

    With `backend` and `requester` the backend is asked too (`get_grant`); a grant it no longer
    knows as active is treated as gone and its row deleted. Every refusal is logged as a
    security event and raised as `AccessRefused`.
    """
    row = await session.get(LinkedPerson, person_id) if isinstance(person_id, int) else None
    if row is None or row.user_id != user.id:
        raise _deny(user, person_id, AccessRefused.NOT_YOURS, action)
    if not is_current(row, now):
        reason = AccessRefused.REVOKED if row.revoked_at is not None else AccessRefused.EXPIRED
        await session.delete(row)
        await session.flush()
        raise _deny(user, person_id, reason, action)
    if not Scope(row.scope).allows(needed):
        raise _deny(user, person_id, AccessRefused.SCOPE, action)
    if backend is not None and requester is not None:
        try:
            grant = await backend.get_grant(row.grant_id, requester)
        except (AccessDenied, NotFound) as error:
            await session.delete(row)
            await session.flush()
            raise _deny(user, person_id, AccessRefused.REVOKED, action) from error
        if not grant.is_active(now) or not grant.allows(needed):
            raise _deny(user, person_id, AccessRefused.REVOKED, action)
    return row


@dataclass(frozen=True, slots=True)
class WhoseCard:
    """Either the person to act on, or the people to ask about."""

    chosen: Person | None
    choices: list[Person]


def whose_card(people: list[Person], remembered_id: object, needed: Scope) -> WhoseCard:
    """Pick the patient without asking when that is unambiguous: one person, or the one chosen
    earlier in this conversation; otherwise offer everyone whose scope is enough."""
    eligible = [p for p in people if p.scope.allows(needed)]
    if len(eligible) == 1:
        return WhoseCard(eligible[0], eligible)
    remembered = next((p for p in eligible if p.id == remembered_id), None)
    return WhoseCard(remembered, eligible)


async def unlink(
    session: AsyncSession,
    backend: RecordsBackend,
    user: User,
    person_id: object,
    requester: Requester,
) -> None:
    """Remove a person from "My people" and revoke the backend grant too."""
    row = await session.get(LinkedPerson, person_id) if isinstance(person_id, int) else None
    if row is None or row.user_id != user.id:
        raise _deny(user, person_id, AccessRefused.NOT_YOURS, "unlink")
    # Already over at the backend: removing our pointer is all that is left.
    with contextlib.suppress(AccessDenied, NotFound):
        await backend.revoke_grant(row.grant_id, requester)
    await session.delete(row)
    await session.flush()


async def revoke_everything(
    session: AsyncSession, backend: RecordsBackend, user: User, requester: Requester
) -> int:
    """For /forget: every grant the user holds is revoked at the backend before rows go."""
    rows = await _rows(session, user)
    for row in rows:
        with contextlib.suppress(AccessDenied, NotFound):
            await backend.revoke_grant(row.grant_id, requester)
    await session.execute(delete(LinkedPerson).where(LinkedPerson.user_id == user.id))
    await session.flush()
    return len(rows)


# --- the owner's side -----------------------------------------------------------------------


def grant_ref(cipher: FieldCipher, grant_id: str) -> str:
    """A short opaque reference to a grant for buttons (the id itself never leaves the bot)."""
    return cipher.short_ref(grant_id, purpose=PURPOSE_GRANT_REF)


async def grants_given(
    session: AsyncSession, backend: RecordsBackend, user: User, requester: Requester, now: datetime
) -> list[Grant]:
    """Who has access to the user's own card now (via their SELF grant), newest first."""
    own = await own_card(session, user, now)
    if own is None:
        raise AccessRefused(AccessRefused.NO_OWN_CARD)
    grants = await backend.list_grants_given(own.grant_id, requester)
    return [g for g in grants if g.is_active(now)]


async def find_given(
    session: AsyncSession,
    backend: RecordsBackend,
    cipher: FieldCipher,
    user: User,
    requester: Requester,
    ref: str,
    now: datetime,
    *,
    action: str = "revoke_ask",
) -> Grant | None:
    """The live grant to the user's own card named by `ref` (the backend asked now); None if it
    is over, or not this owner's (a forged or someone else's reference)."""
    for grant in await grants_given(session, backend, user, requester, now):
        if grant_ref(cipher, grant.grant_id) == ref:
            return grant
    # Stale (already revoked or expired) or forged: either way nothing of this owner's.
    log_denied(user, None, "unknown_grant", action)
    return None


async def revoke_given(
    session: AsyncSession,
    backend: RecordsBackend,
    cipher: FieldCipher,
    user: User,
    requester: Requester,
    ref: str,
    now: datetime,
) -> Grant | None:
    """Revoke the recipient's grant named by `ref`; None if it is no longer there."""
    grant = await find_given(
        session, backend, cipher, user, requester, ref, now, action="revoke_given"
    )
    if grant is None:
        return None
    revoked = await backend.revoke_grant(grant.grant_id, requester)
    log_event(logger, "access.revoked_by_owner", user=pseudonym(user.messenger_key))
    return revoked


async def revoke_all_given(
    session: AsyncSession, backend: RecordsBackend, user: User, requester: Requester, now: datetime
) -> int:
    """For /forget: end everyone's access to the user's own card (before the user's own grant
    goes, which is what lets them revoke). Nothing to do without a linked own card, or when the
    backend no longer knows it as theirs. Returns how many were revoked."""
    try:
        grants = await grants_given(session, backend, user, requester, now)
    except (AccessRefused, AccessDenied, NotFound):
        return 0
    for grant in grants:
        with contextlib.suppress(AccessDenied, NotFound):
            await backend.revoke_grant(grant.grant_id, requester)
    if grants:
        log_event(
            logger,
            "access.revoked_all_given",
            user=pseudonym(user.messenger_key),
            count=len(grants),
        )
    return len(grants)
