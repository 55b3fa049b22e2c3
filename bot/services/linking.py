"""Linking a card: reading what people type, spotting what must not stay in the chat, the
verified phone, and the draft that keeps the answers (encrypted) until the link is made.

No aiogram here. Input problems come out as typed errors with a machine `reason`, which the
messenger layer turns into a localized sentence; the user stays at the same step. The steps
that call the backend are in `linking_backend.py`; the code SMS's helpers in `linking_sms.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Relation
from backend_client.policy import POLICY_LENGTH, normalize_policy, policy_check_digit_ok
from backend_client.protocol import CHILD_AGE_LIMIT, CODE_LENGTH
from bot.crypto import FieldCipher
from bot.db.models import LinkDraft, PhoneCheck, User

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


def parse_code(raw: str) -> str | None:
    """The one-time code as typed: «097117», «097 117» or «097-117» (read out of an SMS, a
    code is often typed in two halves); None when it is not six digits."""
    code = _SEPARATORS.sub("", raw.strip())
    if code.isdigit() and code.isascii() and len(code) == CODE_LENGTH:
        return code
    return None


def looks_like_date(text: str | None) -> bool:
    """A message that is only a date in a format `parse_birth_date` reads (valid or not)."""
    if not text:
        return False
    stripped = text.strip()
    return _DMY.fullmatch(stripped) is not None or _ISO.fullmatch(stripped) is not None


def delete_when_dropped(text: str | None) -> bool:
    """A message the flood limit drops unread: delete it if it may hold a policy, a code or a
    birth date. A bare date is not "sensitive" where a handler reads it (people type dates
    for other things, and the step that asks for a birth date deletes its own answer); but a
    dropped message reaches no step, and a bare date in the middle of linking is most likely
    the birth date asked for. Deleting a harmless date costs nothing: it was not read anyway,
    and has to be sent again."""
    return looks_sensitive(text) is not None or looks_like_date(text)


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


# --- the card, as kept ----------------------------------------------------------------------


def patient_ref_hash(cipher: FieldCipher, patient_id: str) -> str:
    """The card as a keyed hash: links are found by card without keeping the backend's id."""
    return cipher.lookup_hash(patient_id, purpose=PURPOSE_PATIENT)
