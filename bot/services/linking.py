"""Linking a card: reading what people type, and the steps that call the backend.

No aiogram here. Input problems come out as typed errors with a machine `reason`, which the
messenger layer turns into a localized sentence; the user stays at the same step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendError, CodeExhausted, NotFound
from backend_client.models import Challenge, Grant, Relation, Requester, Scope
from backend_client.policy import POLICY_LENGTH, normalize_policy, policy_check_digit_ok
from backend_client.protocol import (
    CHILD_AGE_LIMIT,
    CODE_LENGTH,
    CODE_TTL_SECONDS,
    RESEND_PAUSE_SECONDS,
    RecordsBackend,
)
from bot.crypto import FieldCipher
from bot.db.models import LinkDraft, LinkedPerson, PhoneCheck, User
from bot.services import lookup_limits

PURPOSE_POLICY = "policy"
PURPOSE_LABEL = "label"
PURPOSE_BIRTH_DATE = "birth-date"
PURPOSE_PATIENT = "patient"
PURPOSE_PHONE = "phone"
LABEL_MAX_LENGTH = 40
OLDEST_PLAUSIBLE_AGE = 130


class InputError(ValueError):
    """Something the user typed cannot be used; `reason` says what, for the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PolicyInputError(InputError):
    LENGTH = "length"
    NOT_DIGITS = "not_digits"
    CHECK_DIGIT = "check_digit"


class BirthDateInputError(InputError):
    FORMAT = "format"
    IMPOSSIBLE = "impossible"
    FUTURE = "future"
    TOO_OLD = "too_old"


class LabelInputError(InputError):
    EMPTY = "empty"
    TOO_LONG = "too_long"


def parse_policy(raw: str) -> str:
    """The 16-digit ЕНП from what was typed; spaces and dashes are fine."""
    policy = normalize_policy(raw.strip())
    if not policy.isdigit() or not policy.isascii():
        raise PolicyInputError(PolicyInputError.NOT_DIGITS)
    if len(policy) != POLICY_LENGTH:
        raise PolicyInputError(PolicyInputError.LENGTH)
    if not policy_check_digit_ok(policy):
        raise PolicyInputError(PolicyInputError.CHECK_DIGIT)
    return policy


_DMY = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_birth_date(raw: str, today: date) -> date:
    """`01.02.1980`, `1.2.1980` or `1980-02-01`; not in the future, not absurdly old."""
    text = raw.strip()
    if match := _DMY.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise BirthDateInputError(BirthDateInputError.FORMAT)
    try:
        born = date(year, month, day)
    except ValueError as error:
        raise BirthDateInputError(BirthDateInputError.IMPOSSIBLE) from error
    if born > today:
        raise BirthDateInputError(BirthDateInputError.FUTURE)
    if today.year - born.year > OLDEST_PLAUSIBLE_AGE:
        raise BirthDateInputError(BirthDateInputError.TOO_OLD)
    return born


def parse_label(raw: str) -> str:
    label = " ".join(raw.split())
    if not label:
        raise LabelInputError(LabelInputError.EMPTY)
    if len(label) > LABEL_MAX_LENGTH:
        raise LabelInputError(LabelInputError.TOO_LONG)
    return label


class AccessTerm(StrEnum):
    """How long a relative's access lasts (the owner can revoke it earlier)."""

    MONTH = "1m"
    HALF_YEAR = "6m"
    YEAR = "1y"
    UNLIMITED = "0"


_TERM_DAYS = {AccessTerm.MONTH: 30, AccessTerm.HALF_YEAR: 182, AccessTerm.YEAR: 365}


def term_expires_at(term: AccessTerm, now: datetime) -> datetime | None:
    days = _TERM_DAYS.get(term)
    return None if days is None else now + timedelta(days=days)


def age_on(born: date, today: date) -> int:
    """Full years on `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def child_age_ok(born: date, today: date) -> bool:
    """A child is linked by a parent without a code only before their 15th birthday; from then
    on they hold their own card and give access like any adult (by the SMS code)."""
    return age_on(born, today) < CHILD_AGE_LIMIT


# --- what must not stay in the chat ---------------------------------------------------------


class Sensitive(StrEnum):
    """What a message that nobody asked for looks like (it is deleted from the chat)."""

    POLICY = "policy"
    CODE = "code"


_SEPARATORS = re.compile("[\\s\\-\u2010-\u2015]+")  # spaces, hyphens and dashes


def looks_sensitive(text: str | None) -> Sensitive | None:
    """A 16-digit number (an OMS policy) or a 6-digit one (a one-time code), give or take
    spaces and dashes; None for anything else."""
    if not text:
        return None
    digits = _SEPARATORS.sub("", text.strip())
    if not (digits.isdigit() and digits.isascii()):
        return None
    if len(digits) == POLICY_LENGTH:
        return Sensitive.POLICY
    if len(digits) == CODE_LENGTH:
        return Sensitive.CODE
    return None


# --- who asks (the owner's SMS names them) ---------------------------------------------------

REQUESTER_NAME_MAX = 64
_UNVERIFIED_PREFIX = "Пользователь Telegram «"
_UNVERIFIED_SUFFIX = "» (имя не проверено)"
_QUOTES = re.compile("[\"'`\u00ab\u00bb\u2018-\u201f\u2039\u203a]")


def unverified_requester_name(telegram_name: str) -> str:
    """How the owner's SMS (and their list of who has access) names a user who has not linked
    their own card: the name they gave themselves in Telegram, marked as such, so that nobody
    can pass for "Поликлиника". Russian, like every SMS of the EMIAS backend; quotes are taken
    out so the name cannot close the marking early. A user with their own card linked is named
    by that card instead (see `bot.services.people.requester_name`)."""
    name = " ".join(_QUOTES.sub("", telegram_name).split())
    room = REQUESTER_NAME_MAX - len(_UNVERIFIED_PREFIX) - len(_UNVERIFIED_SUFFIX)
    if len(name) > room:
        name = name[: room - 1].rstrip() + "…"
    if not name:
        return "Пользователь Telegram без имени"
    return _UNVERIFIED_PREFIX + name + _UNVERIFIED_SUFFIX


# --- the SMS pause --------------------------------------------------------------------------


def is_short_pause(retry_after: int) -> bool:
    """A refused send that only has to wait out the one-SMS-a-minute pause (the user keeps the
    answers and sends the code in a moment); longer waits are the hourly and daily caps, which
    end the attempt."""
    return retry_after <= RESEND_PAUSE_SECONDS


def send_after(now: datetime, retry_after: int) -> int:
    """When the code may be sent, as a JSON-safe stamp (whole seconds since the epoch)."""
    return int(now.timestamp()) + retry_after


def seconds_until(stamp: object, now: datetime) -> int:
    """Seconds left until `stamp` (from `send_after`); 0 when it has passed or is unknown."""
    if not isinstance(stamp, int):
        return 0
    return max(0, stamp - int(now.timestamp()))


# --- the phone ------------------------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    return digits


async def has_verified_phone(session: AsyncSession, user: User) -> bool:
    return await session.get(PhoneCheck, user.id) is not None


async def remember_phone(
    session: AsyncSession, cipher: FieldCipher, user: User, phone: str, now: datetime
) -> None:
    """Keep only a keyed hash: enough to know a phone was shared, useless to anyone else."""
    phone_hash = cipher.lookup_hash(normalize_phone(phone), purpose=PURPOSE_PHONE)
    row = await session.get(PhoneCheck, user.id)
    if row is None:
        session.add(PhoneCheck(user_id=user.id, phone_hash=phone_hash, verified_at=now))
    else:
        row.phone_hash = phone_hash
        row.verified_at = now
    await session.flush()


# --- drafts ---------------------------------------------------------------------------------


DRAFT_LIFETIME = timedelta(hours=1)


async def start_draft(
    session: AsyncSession, user: User, relation: Relation, now: datetime
) -> LinkDraft:
    """A fresh draft; this user's earlier unfinished one is dropped, and so is anybody's
    abandoned one (an encrypted policy is kept no longer than the conversation needs it)."""
    await session.execute(
        delete(LinkDraft).where(
            or_(LinkDraft.user_id == user.id, LinkDraft.created_at < now - DRAFT_LIFETIME)
        )
    )
    draft = LinkDraft(user_id=user.id, relation=relation.value, created_at=now)
    session.add(draft)
    await session.flush()
    return draft


def link_as_relative(draft: LinkDraft) -> None:
    """A "child" who is 15 or older: the same answers go on as a relative's request (scope,
    term, then the code to the owner's phone)."""
    draft.relation = Relation.RELATIVE.value
    draft.challenge_id = None


async def drop_drafts(session: AsyncSession, user: User) -> None:
    """The user left the flow: their encrypted policy is not kept for nothing."""
    await session.execute(delete(LinkDraft).where(LinkDraft.user_id == user.id))


async def get_draft(session: AsyncSession, user: User, draft_id: object) -> LinkDraft | None:
    """The user's own draft by id (ids from FSM data are still checked against the owner)."""
    if not isinstance(draft_id, int):
        return None
    draft = await session.get(LinkDraft, draft_id)
    if draft is None or draft.user_id != user.id:
        return None
    return draft


@dataclass(frozen=True, slots=True)
class DraftInput:
    policy: str
    birth_date: date
    label: str | None


def read_draft(cipher: FieldCipher, draft: LinkDraft) -> DraftInput:
    if draft.policy_enc is None or draft.birth_date_enc is None:
        raise ValueError("draft is not complete")
    label = None
    if draft.label_enc is not None:
        label = cipher.decrypt(draft.label_enc, purpose=PURPOSE_LABEL)
    born = date.fromisoformat(cipher.decrypt(draft.birth_date_enc, purpose=PURPOSE_BIRTH_DATE))
    return DraftInput(cipher.decrypt(draft.policy_enc, purpose=PURPOSE_POLICY), born, label)


def set_draft_label(cipher: FieldCipher, draft: LinkDraft, label: str) -> None:
    draft.label_enc = cipher.encrypt(label, purpose=PURPOSE_LABEL)


def set_draft_policy(cipher: FieldCipher, draft: LinkDraft, policy: str) -> None:
    draft.policy_enc = cipher.encrypt(policy, purpose=PURPOSE_POLICY)


def set_draft_birth_date(cipher: FieldCipher, draft: LinkDraft, born: date) -> None:
    draft.birth_date_enc = cipher.encrypt(born.isoformat(), purpose=PURPOSE_BIRTH_DATE)


# --- backend steps --------------------------------------------------------------------------


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


def patient_ref_hash(cipher: FieldCipher, patient_id: str) -> str:
    return cipher.lookup_hash(patient_id, purpose=PURPOSE_PATIENT)


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
) -> list[tuple[int, str | None]]:
    """(Telegram id, language) of bot users who linked this card as their own: they are told
    at once when someone gains access to it."""
    rows = await session.execute(
        select(User.telegram_id, User.language)
        .join(LinkedPerson, LinkedPerson.user_id == User.id)
        .where(
            LinkedPerson.patient_ref_hash == patient_ref_hash(cipher, patient_id),
            LinkedPerson.relation == Relation.SELF.value,
            User.id != except_user.id,
        )
    )
    return [(telegram_id, language) for telegram_id, language in rows]
