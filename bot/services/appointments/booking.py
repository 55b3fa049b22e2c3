"""Booking and rescheduling: the conversation's draft and the backend steps.

The draft lives in FSM data as small JSON (ids only). Times offered to the user are remembered
in it, and a pressed time must be one of them: a forged button cannot book a slot the user was
never shown. The idempotency key comes from a token minted when the confirmation is shown, and
the token is saved in FSM data before that button is shown: a double tap on "Confirm" books
once, and so does the same press delivered again after the process that handled it died (the
backend answers a repeated key with the first booking; `tests/unit/appointments/
test_booking_redelivery.py`).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from backend_client.errors import (
    AccessDenied,
    AlreadyBooked,
    BackendError,
    BackendUnavailable,
    InvalidRequest,
    NotFound,
    RateLimited,
    SlotTaken,
)
from backend_client.models import Appointment, Doctor, Referral, Slot, Specialty
from backend_client.protocol import RecordsBackend
from bot.services.appointments import calendar
from bot.services.appointments.clock import msk_date

DRAFT_KEY = "booking"
"""FSM data key of the booking draft."""


class Mode:
    BOOK = "book"
    MOVE = "move"  # reschedule an existing visit
    WATCH = "watch"  # choosing what to watch


@dataclass(slots=True)
class BookingDraft:
    person_id: int
    mode: str = Mode.BOOK
    specialty_code: str | None = None
    referral_id: str | None = None
    doctor_id: str | None = None
    appointment_id: str | None = None
    choices: list[str] = field(default_factory=list)
    """"kind:id" of the specialties, referrals or doctors on show; a pick must be one of them."""
    day: str | None = None
    """ISO date of the times on show."""
    offered: list[str] = field(default_factory=list)
    """Slot ids offered in the newest times message; a pressed time must be one of them."""
    slot_id: str | None = None
    token: str | None = None
    """Minted with the confirmation screen; the idempotency key is derived from it."""
    done: str | None = None
    """The appointment id once the confirmed token has booked."""
    watch_id: int | None = None
    """The watch whose "Book it" started this; it stops once booked."""

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> BookingDraft | None:
        raw = data.get(DRAFT_KEY)
        if not isinstance(raw, dict) or not isinstance(raw.get("person_id"), int):
            return None
        try:
            return cls(**raw)
        except TypeError:  # a draft of an older shape: start again
            return None

    def offer(self, slots: list[Slot]) -> None:
        self.offered = [s.slot_id for s in slots]
        self.slot_id = None
        self.token = None
        self.done = None

    def pick(self, index: int) -> str | None:
        """The offered slot id at `index`, or None for anything not offered."""
        if 0 <= index < len(self.offered):
            self.slot_id = self.offered[index]
            return self.slot_id
        return None

    def mint_token(self) -> str:
        self.token = secrets.token_hex(6)
        self.done = None
        return self.token


def idempotency_key(user_id: int, token: str) -> str:
    """Per user and per confirmation screen: the same screen tapped twice is one booking."""
    return f"bot-{user_id}-{token}"


@dataclass(frozen=True, slots=True)
class WhatToBook:
    specialties: list[Specialty]
    referrals: list[Referral]


async def what_to_book(backend: RecordsBackend, grant_id: str, requester_id: str) -> WhatToBook:
    specialties = await backend.list_specialties(grant_id, requester_id)
    referrals = await backend.list_referrals(grant_id, requester_id)
    return WhatToBook(
        sorted((s for s in specialties if not s.needs_referral), key=lambda s: s.name), referrals
    )


class ReferralGone(NotFound):
    """The draft's referral is no longer active: used by a booking (perhaps another person's
    acting for the same patient), expired or closed. A `NotFound`, so code that treats an unknown
    id as gone keeps working."""


async def doctors(
    backend: RecordsBackend, grant_id: str, requester_id: str, draft: BookingDraft
) -> list[Doctor]:
    """Raises `ReferralGone` when the draft's referral can no longer be used."""
    if draft.referral_id is not None:
        try:
            found = await backend.list_doctors(
                grant_id, requester_id, referral_id=draft.referral_id
            )
        except NotFound as error:
            raise ReferralGone("referral no longer active") from error
        found = await _at_referral_clinic(backend, grant_id, requester_id, draft.referral_id, found)
    else:
        found = await backend.list_doctors(
            grant_id, requester_id, specialty_code=draft.specialty_code
        )
    # The patient's own (district) doctor first, as patients look for them.
    return sorted(found, key=lambda d: (not d.district, d.clinic.name, d.full_name))


async def nearest_times(
    backend: RecordsBackend,
    grant_id: str,
    requester_id: str,
    found: list[Doctor],
    now: datetime,
) -> dict[str, datetime]:
    """The first free time in the window of each doctor who has one (for the doctor buttons)."""
    nearest: dict[str, datetime] = {}
    for doctor in found:
        slots = await window_slots(backend, grant_id, requester_id, doctor.doctor_id, now)
        if slots:
            nearest[doctor.doctor_id] = min(s.starts_at for s in slots)
    return nearest


async def _at_referral_clinic(
    backend: RecordsBackend,
    grant_id: str,
    requester_id: str,
    referral_id: str,
    found: list[Doctor],
) -> list[Doctor]:
    """A referral names the clinic it is for («КДЦ № 6»): only that clinic's doctors, even
    when the backend answers with the specialty's doctors elsewhere."""
    referral = next(
        (
            r
            for r in await backend.list_referrals(grant_id, requester_id)
            if r.referral_id == referral_id
        ),
        None,
    )
    if referral is None or referral.clinic is None:
        return found
    return [d for d in found if d.clinic.clinic_id == referral.clinic.clinic_id]


async def find_doctor(
    backend: RecordsBackend, grant_id: str, requester_id: str, draft: BookingDraft
) -> Doctor | None:
    return next(
        (
            d
            for d in await doctors(backend, grant_id, requester_id, draft)
            if d.doctor_id == draft.doctor_id
        ),
        None,
    )


async def active_visit_of(
    backend: RecordsBackend, grant_id: str, requester_id: str, specialty_code: str
) -> Appointment | None:
    """The patient's active future visit of this specialty, if any (one is allowed)."""
    for visit in await backend.list_appointments(grant_id, requester_id, upcoming=True):
        if visit.is_active and visit.doctor.specialty.code == specialty_code:
            return visit
    return None


async def window_slots(
    backend: RecordsBackend, grant_id: str, requester_id: str, doctor_id: str, now: datetime
) -> list[Slot]:
    """Free slots of the doctor in the 14-day window, strictly in the future."""
    start, end = calendar.window(msk_date(now))
    slots = await backend.free_slots(grant_id, requester_id, doctor_id, start, end)
    return [s for s in slots if s.starts_at > now]


async def day_slots(
    backend: RecordsBackend,
    grant_id: str,
    requester_id: str,
    doctor_id: str,
    day: date,
    now: datetime,
) -> list[Slot]:
    slots = await backend.free_slots(grant_id, requester_id, doctor_id, day, day)
    return [s for s in slots if s.starts_at > now]


async def fresh_slot(
    backend: RecordsBackend,
    grant_id: str,
    requester_id: str,
    doctor_id: str,
    slot_id: str,
    now: datetime,
) -> Slot | None:
    """The slot if it is still free and in the future (read again, never trusted from a button)."""
    for slot in await window_slots(backend, grant_id, requester_id, doctor_id, now):
        if slot.slot_id == slot_id:
            return slot
    return None


async def commit(
    backend: RecordsBackend,
    grant_id: str,
    requester_id: str,
    user_id: int,
    draft: BookingDraft,
) -> Appointment:
    """Book (or move) the chosen slot with the draft's token; `SlotTaken` if someone was faster.

    Rescheduling is atomic at the backend: the old slot is freed only if the new one is secured.
    """
    assert draft.slot_id is not None and draft.token is not None
    key = idempotency_key(user_id, draft.token)
    if draft.mode == Mode.MOVE:
        assert draft.appointment_id is not None
        return await backend.reschedule(
            grant_id, requester_id, draft.appointment_id, draft.slot_id, key
        )
    return await backend.book(grant_id, requester_id, draft.slot_id, key, draft.referral_id)


class Failure(StrEnum):
    """Why a booking, a move or a cancellation did not happen, in words a person can act on."""

    SLOT_TAKEN = "slot_taken"
    """Someone was faster, or the time has passed: choose another time."""
    REFERRAL_GONE = "referral_gone"
    """The referral was used (perhaps by another person acting for the patient) or closed."""
    REFERRAL_MISMATCH = "referral_mismatch"
    """The referral is for another specialty than the chosen doctor's."""
    REFERRAL_REQUIRED = "referral_required"
    """This specialty is booked with a referral only."""
    NOT_ALLOWED = "not_allowed"
    """The specialty does not see this patient (a child at a therapist, and the like)."""
    OTHER_SPECIALTY = "other_specialty"
    """A visit moves only to a doctor of the same specialty."""
    VISIT_GONE = "visit_gone"
    """The appointment is no longer this patient's (unknown to the backend now)."""
    VISIT_FIXED = "visit_fixed"
    """The appointment is cancelled or past: it cannot be changed any more."""
    NO_ACCESS = "no_access"
    """The grant no longer allows appointments."""
    UNAVAILABLE = "unavailable"
    """The backend did not answer; nothing is lost, the same request may be repeated."""
    ALREADY_BOOKED = "already_booked"
    """The patient already has an active visit of this specialty (one at a time, as EMIAS)."""
    RETRY = "retry"
    """The request was refused for a reason of its own (a stale confirmation): start the step
    again."""


def failure_of(error: BackendError) -> Failure:
    """The failure an error of book, reschedule or cancel stands for, without asking the
    backend anything more (see `explain` for the cases a second look settles)."""
    if isinstance(error, SlotTaken):
        return Failure.SLOT_TAKEN
    if isinstance(error, AlreadyBooked):
        return Failure.ALREADY_BOOKED
    if isinstance(error, ReferralGone):
        return Failure.REFERRAL_GONE
    if isinstance(error, BackendUnavailable | RateLimited):
        return Failure.UNAVAILABLE  # nothing changed; the same request may come again later
    if isinstance(error, AccessDenied):
        if error.reason == AccessDenied.REASON_REFERRAL_REQUIRED:
            return Failure.REFERRAL_REQUIRED
        return Failure.NO_ACCESS
    if isinstance(error, InvalidRequest):
        return {
            "appointment_id": Failure.VISIT_FIXED,
            "referral_id": Failure.REFERRAL_MISMATCH,
            "slot_id": Failure.NOT_ALLOWED,
            "new_slot_id": Failure.OTHER_SPECIALTY,
        }.get(error.field, Failure.RETRY)
    if isinstance(error, NotFound):
        return Failure.SLOT_TAKEN  # the slot itself is gone: the day's times as they are now
    return Failure.RETRY


async def explain(
    backend: RecordsBackend,
    grant_id: str,
    requester_id: str,
    draft: BookingDraft,
    error: BackendError,
) -> Failure:
    """Why `commit` failed. A `NotFound` names no id, so the referral (when booking with one) and
    the visit (when moving) are looked at again: which of them is gone decides the answer."""
    failure = failure_of(error)
    if not isinstance(error, NotFound) or isinstance(error, ReferralGone):
        return failure
    try:
        if draft.mode == Mode.MOVE and draft.appointment_id is not None:
            try:
                await backend.get_appointment(grant_id, requester_id, draft.appointment_id)
            except NotFound:
                return Failure.VISIT_GONE
        elif draft.referral_id is not None:
            active = await backend.list_referrals(grant_id, requester_id)
            if all(r.referral_id != draft.referral_id for r in active):
                return Failure.REFERRAL_GONE
    except BackendError as second:  # the second look failed: say what that failure means
        return failure_of(second)
    return failure


async def cancel(
    backend: RecordsBackend, grant_id: str, requester_id: str, appointment_id: str
) -> Appointment | Failure:
    """Cancel a visit; the failure in words when the backend refuses."""
    try:
        return await backend.cancel_appointment(grant_id, requester_id, appointment_id)
    except NotFound:
        return Failure.VISIT_GONE
    except BackendError as error:
        return failure_of(error)
