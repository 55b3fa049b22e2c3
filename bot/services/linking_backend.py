"""Linking a card: the steps that call the backend (ask for the code, confirm it, link a
child) and the links they keep. Reading what people type and the draft are in `linking.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendError, CodeExhausted, NotFound
from backend_client.models import Challenge, Grant, Relation, Requester, Scope
from backend_client.protocol import CODE_TTL_SECONDS, RecordsBackend
from bot.crypto import FieldCipher
from bot.db.models import LinkDraft, LinkedPerson, User
from bot.services import lookup_limits
from bot.services.linking import PURPOSE_LABEL, PURPOSE_POLICY, patient_ref_hash, read_draft


async def lookup_wait(
    session: AsyncSession, cipher: FieldCipher, requester_id: str, policy: str, now: datetime
) -> int:
    """Seconds until this account may look this policy up (0: now). Asked as soon as the policy
    is typed, so nobody answers every question only to be refused at the end."""
    return await lookup_limits.wait_seconds(
        session, requester_id, lookup_limits.policy_hash(cipher, policy), now
    )


async def request_code(
    session: AsyncSession,
    backend: RecordsBackend,
    cipher: FieldCipher,
    draft: LinkDraft,
    requester: Requester,
    now: datetime,
) -> Challenge:
    """Ask the backend to send the code to the card's phone; remembers the challenge id.
    `LookupLocked` (the bot's caps or the backend's) before anything is sent."""
    data = read_draft(cipher, draft)
    relation = Relation(draft.relation)
    scope = Scope(draft.scope) if draft.scope else Scope.RECORDS
    key = lookup_limits.policy_hash(cipher, data.policy)
    await lookup_limits.check(session, requester.id, key, now)
    try:
        challenge = await backend.request_access(
            data.policy,
            data.birth_date,
            requester,
            relation,
            scope,
            expires_at=draft.access_expires_at if relation is Relation.RELATIVE else None,
        )
    except NotFound:
        await lookup_limits.record_failure(session, requester.id, key, now)
        raise
    draft.challenge_id = challenge.challenge_id
    return challenge


async def resend_code(backend: RecordsBackend, draft: LinkDraft, requester: Requester) -> Challenge:
    if draft.challenge_id is None:
        raise ValueError("no code was requested for this draft")
    return await backend.resend_code(draft.challenge_id, requester)


@dataclass(frozen=True, slots=True)
class AskedCode:
    """What the bot remembers of a code it asked for, in FSM data (JSON-safe, no personal data):
    the card as a keyed hash and the backend's moment of the request. Enough to recognise the
    grant that code made when the answer to its confirm was lost (see `confirm_code`)."""

    card: str
    asked_at: int
    """Epoch seconds on the backend's clock (the challenge's expiry less the code's lifetime)."""

    @classmethod
    def of(cls, cipher: FieldCipher, challenge: Challenge) -> AskedCode:
        asked = challenge.expires_at - timedelta(seconds=CODE_TTL_SECONDS)
        return cls(patient_ref_hash(cipher, challenge.patient_id), int(asked.timestamp()))

    def to_data(self) -> dict[str, object]:
        return {"card": self.card, "asked_at": self.asked_at}

    @classmethod
    def from_data(cls, raw: object) -> AskedCode | None:
        if not isinstance(raw, dict):
            return None
        card, asked_at = raw.get("card"), raw.get("asked_at")
        if not isinstance(card, str) or not isinstance(asked_at, int):
            return None
        return cls(card, asked_at)


@dataclass(frozen=True, slots=True)
class Linked:
    person: LinkedPerson
    grant: Grant


async def confirm_code(
    session: AsyncSession,
    backend: RecordsBackend,
    cipher: FieldCipher,
    user: User,
    draft: LinkDraft,
    code: str,
    requester: Requester,
    now: datetime,
    asked: AskedCode | None = None,
) -> Linked:
    """Check the code with the backend and keep the new link; the draft is gone afterwards.

    Idempotent across a crash: if an earlier confirm went through at the backend but the bot
    died before keeping the link, the backend now says the challenge is used (or unknown).
    Then the grant that code made — this requester's active grant on the same card, of the
    draft's kind and scope, made since the code was asked for — is linked instead of telling
    the person "too many wrong codes"; without such a grant the refusal stands."""
    if draft.challenge_id is None:
        raise ValueError("no code was requested for this draft")
    try:
        grant = await backend.confirm_access(draft.challenge_id, code.strip(), requester)
    except (CodeExhausted, NotFound):
        made = await _grant_made_by(backend, cipher, draft, requester, asked)
        if made is None:
            raise
        grant = made
    return Linked(await _keep_link(session, cipher, user, draft, grant, now), grant)


async def _grant_made_by(
    backend: RecordsBackend,
    cipher: FieldCipher,
    draft: LinkDraft,
    requester: Requester,
    asked: AskedCode | None,
) -> Grant | None:
    if asked is None:
        return None
    relation = Relation(draft.relation)
    scope = Scope.RECORDS if relation is Relation.SELF else Scope(draft.scope or Scope.RECORDS)
    try:
        grants = await backend.list_grants_received(requester.id)
    except BackendError:
        return None  # the first refusal is the answer
    for grant in grants:
        if (
            grant.relation is relation
            and grant.scope is scope
            and int(grant.created_at.timestamp()) >= asked.asked_at
            and patient_ref_hash(cipher, grant.patient_id) == asked.card
        ):
            return grant
    return None


async def link_child(
    session: AsyncSession,
    backend: RecordsBackend,
    cipher: FieldCipher,
    user: User,
    draft: LinkDraft,
    parent_grant_id: str,
    requester: Requester,
    now: datetime,
) -> LinkedPerson:
    """Link a child under 15; a wrong birth date counts against the same caps as a code
    request (`LookupLocked`)."""
    data = read_draft(cipher, draft)
    key = lookup_limits.policy_hash(cipher, data.policy)
    await lookup_limits.check(session, requester.id, key, now)
    try:
        grant = await backend.link_child(parent_grant_id, requester, data.policy, data.birth_date)
    except NotFound:
        await lookup_limits.record_failure(session, requester.id, key, now)
        raise
    return await _keep_link(session, cipher, user, draft, grant, now)


async def linked_child(
    session: AsyncSession, cipher: FieldCipher, user: User, policy: str, now: datetime
) -> LinkedPerson | None:
    """The user's current child link with this policy, if they already have one (adding the
    same child again keeps it as it is)."""
    rows = await session.scalars(
        select(LinkedPerson).where(
            LinkedPerson.user_id == user.id, LinkedPerson.relation == Relation.CHILD.value
        )
    )
    for row in rows:
        if row.expires_at is not None and now >= row.expires_at:
            continue
        if cipher.decrypt(row.policy_enc, purpose=PURPOSE_POLICY) == policy:
            return row
    return None


async def _keep_link(
    session: AsyncSession,
    cipher: FieldCipher,
    user: User,
    draft: LinkDraft,
    grant: Grant,
    now: datetime,
) -> LinkedPerson:
    data = read_draft(cipher, draft)
    ref = patient_ref_hash(cipher, grant.patient_id)
    # One row per card and user: linking the same card again replaces the old link.
    await session.execute(
        delete(LinkedPerson).where(
            LinkedPerson.user_id == user.id, LinkedPerson.patient_ref_hash == ref
        )
    )
    label = data.label or grant.patient.display_name
    person = LinkedPerson(
        user_id=user.id,
        relation=grant.relation.value,
        scope=grant.scope.value,
        grant_id=grant.grant_id,
        patient_ref_hash=ref,
        label_enc=cipher.encrypt(label, purpose=PURPOSE_LABEL),
        policy_enc=draft.policy_enc or cipher.encrypt(data.policy, purpose=PURPOSE_POLICY),
        expires_at=grant.expires_at,
        created_at=now,
    )
    session.add(person)
    await session.delete(draft)
    await session.flush()
    return person


async def owners_to_alert(
    session: AsyncSession, cipher: FieldCipher, patient_id: str, except_user: User
) -> list[tuple[int, str | None, str]]:
    """(messenger id, language, channel) of bot users who linked this card as their own: they
    are told at once when someone gains access to it, on the messenger they use."""
    rows = await session.execute(
        select(User.telegram_id, User.language, User.channel)
        .join(LinkedPerson, LinkedPerson.user_id == User.id)
        .where(
            LinkedPerson.patient_ref_hash == patient_ref_hash(cipher, patient_id),
            LinkedPerson.relation == Relation.SELF.value,
            User.id != except_user.id,
        )
    )
    return [(messenger_id, language, channel) for messenger_id, language, channel in rows]
