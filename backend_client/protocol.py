"""The contract between the bot and the city's records / appointment backend.

Implemented in-process by ``backend_client.sandbox.SandboxBackend`` and over the wire by
``backend_client.http`` (later). The contract tests in ``tests/backend`` run against every
implementation.

Access model
------------
The bot acts for a *requester* (a Telegram user, pseudonymous id). A requester gets a *grant* on
a patient's card:

* ``SELF``: their own card, confirmed by an SMS code sent to the card's phone;
* ``RELATIVE``: someone else's card, confirmed by an SMS code sent to the *owner's* phone
  (the 2025 EMIAS rule); the owner picks nothing in the bot, the SMS tells them who asks for
  what, and they decide by passing the code on or not;
* ``CHILD``: a child under 15, linked without a code by a parent holding a ``SELF`` grant when
  the backend's family register says parent -> child; it expires on the child's 15th birthday.

Every patient-data call takes ``(grant_id, requester_id)`` and the backend re-checks, at that
moment, that the grant belongs to the requester, is not revoked or expired, and has the needed
scope; otherwise ``AccessDenied``. The bot checks too (defence in depth).

Errors are the typed hierarchy in ``backend_client.errors``; ``BackendUnavailable`` may come out
of any call.

More details every implementation follows (kept here rather than in the method docstrings,
which feed the committed OpenAPI document):

* an unknown grant and another requester's grant both give ``AccessDenied`` on patient-data
  calls (no probing of grant ids); an entry, appointment or referral of another patient gives
  ``NotFound``, like an unknown id;
* ``confirm_access``: a code that is not 6 digits -> ``InvalidRequest("code")`` without using
  an attempt; wrong tries are counted per challenge (a resend does not reset them);
* look-ups by policy and birth date (``find_patient``, ``request_access``, ``link_child``)
  count the wrong ones per policy number as typed and per requester, and refuse every look-up
  under a full cap with ``LookupLocked(retry_after)``, a right one too (the caps and why:
  ``backend_client.lockout``); malformed input is refused first and not counted;
* ``book``: ``referral_id`` unknown/expired/used -> ``NotFound``, of another specialty ->
  ``InvalidRequest("referral_id")``; a specialty the patient may not see (a child at a
  therapist, a man at a gynaecologist) -> ``InvalidRequest("slot_id")``; ``idempotency_key``
  must be 8..128 characters, and reusing it for another slot -> ``InvalidRequest``;
* ``reschedule`` of a past or cancelled visit and ``cancel_appointment`` of a past one ->
  ``InvalidRequest("appointment_id")`` (cancelling a cancelled visit just returns it);
* ``read_events``: a cursor that is not one we returned -> ``InvalidRequest("after")``;
* ``list_referrals`` hides ``diagnosis`` from appointments-only grants;
* a booked visit whose time has passed is reported as ``completed``;
* ids are short (at most 24 characters) so the bot can put them in 64-byte callback data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, runtime_checkable

from backend_client.models import (
    AccessLogEntry,
    AnalyteHistory,
    Appointment,
    Challenge,
    Doctor,
    Document,
    EntryPage,
    EventBatch,
    Grant,
    PatientRef,
    Referral,
    Relation,
    Requester,
    Scope,
    Section,
    Slot,
    Specialty,
)

MAX_RECIPIENTS = 5
"""Active non-SELF grants per card."""
CODE_LENGTH = 6
CODE_TTL_SECONDS = 600
CODE_MAX_ATTEMPTS = 5
RESEND_PAUSE_SECONDS = 60
SENDS_PER_HOUR = 3
SENDS_PER_DAY = 10
CHILD_AGE_LIMIT = 15


@runtime_checkable
class RecordsBackend(Protocol):
    # --- patients and access ------------------------------------------------------------------

    async def find_patient(self, policy: str, birth_date: date) -> PatientRef:
        """The patient with this ЕНП (16 digits) and birth date.

        ``NotFound`` when the policy is unknown *or* the birth date does not match (the caller
        cannot tell which); ``InvalidRequest("policy")`` when it is not 16 digits with a valid
        check digit; ``InvalidRequest("birth_date")`` for a date in the future;
        ``LookupLocked`` after too many wrong look-ups of this policy (counted per policy only:
        the call names no requester).
        """
        ...

    async def request_access(
        self,
        policy: str,
        birth_date: date,
        requester: Requester,
        relation: Relation,
        scope: Scope,
        expires_at: datetime | None = None,
    ) -> Challenge:
        """Start linking a card: sends a 6-digit code by SMS to the card's phone.

        ``relation`` is ``SELF`` or ``RELATIVE`` (``CHILD`` -> ``InvalidRequest("relation")``,
        use ``link_child``). For ``SELF`` the scope is always ``RECORDS`` and ``expires_at`` is
        ignored. ``expires_at`` must be in the future (``InvalidRequest("expires_at")``).
        Raises ``NotFound``, ``LookupLocked`` (too many wrong look-ups of this policy or by this
        requester), ``RateLimited`` (per patient and per requester: one send per 60 s, 3 per
        hour, 10 per day), ``GrantLimitReached`` (RELATIVE and the owner already has 5
        recipients other than this requester).
        """
        ...

    async def resend_code(self, challenge_id: str, requester: Requester) -> Challenge:
        """Send a fresh code for the same request; the previous code stops working at once.

        ``RateLimited(retry_after)`` before ``resend_available_at`` or over the send limits;
        ``NotFound`` for an unknown challenge or one of another requester; ``CodeExhausted`` if
        the challenge is already dead (used or too many wrong codes).
        """
        ...

    async def confirm_access(self, challenge_id: str, code: str, requester: Requester) -> Grant:
        """Check the code and create the grant.

        ``CodeWrong(attempts_left)``, ``CodeExhausted`` (5 wrong tries, or already used),
        ``CodeExpired`` (10 minutes passed), ``GrantLimitReached`` (checked again here),
        ``NotFound`` (unknown challenge or another requester's). A requester who already had a
        grant on the same card gets it replaced by the new one (not counted twice).

        Idempotent for its own requester: the right code again for a challenge it already
        used, within the code's lifetime, returns the grant that confirm made while that grant
        is active (nothing new, no SMS), so a caller that lost the answer can finish.
        """
        ...

    async def link_child(
        self,
        parent_grant_id: str,
        requester: Requester,
        child_policy: str,
        child_birth_date: date,
    ) -> Grant:
        """Link a child under 15 without a code.

        ``parent_grant_id`` must be the requester's active ``SELF`` grant, else
        ``AccessDenied(reason="not_owner")``; ``NotFound`` if the child's policy/birth date does
        not match; ``AccessDenied(reason="not_parent")`` if the family register does not say
        parent -> child; ``AccessDenied(reason="child_too_old")`` at 15 or older; ``LookupLocked``
        as for ``request_access``. The grant has
        scope ``RECORDS`` and expires on the child's 15th birthday (00:00 Moscow time).
        """
        ...

    async def get_grant(self, grant_id: str, requester: Requester) -> Grant:
        """The requester's own active grant; ``AccessDenied`` if not theirs or inactive,
        ``NotFound`` if unknown."""
        ...

    async def list_grants_received(self, requester_id: str) -> list[Grant]:
        """The requester's active grants (their own card, relatives, children)."""
        ...

    async def list_grants_given(self, owner_grant_id: str, requester: Requester) -> list[Grant]:
        """Who has access to the owner's card (active non-SELF grants), newest first.

        The requester proves ownership with their active ``SELF`` grant ``owner_grant_id``, else
        ``AccessDenied(reason="not_owner")``.
        """
        ...

    async def revoke_grant(self, grant_id: str, requester: Requester) -> Grant:
        """Revoke a grant: allowed for its grantee (unlink) or for the card owner (through an
        active ``SELF`` grant on that card). Returns the revoked grant; revoking an already
        revoked grant returns it unchanged. ``AccessDenied`` otherwise, ``NotFound`` if unknown.
        """
        ...

    async def access_log(
        self, owner_grant_id: str, requester: Requester, *, limit: int = 50
    ) -> list[AccessLogEntry]:
        """Who did what with the owner's card, newest first (owner only, via their SELF grant)."""
        ...

    # --- the record (scope RECORDS) -----------------------------------------------------------

    async def list_entries(
        self,
        grant_id: str,
        requester_id: str,
        section: Section,
        *,
        since: date | None = None,
        until: date | None = None,
        cursor: str | None = None,
        limit: int = 8,
    ) -> EntryPage:
        """One page of a section, newest first; ``since``/``until`` inclusive (Moscow dates).

        ``cursor`` is the opaque ``next_cursor`` of the previous page (with the same filters);
        a malformed cursor -> ``InvalidRequest("cursor")``; ``limit`` 1..50 else
        ``InvalidRequest("limit")``; ``since > until`` -> ``InvalidRequest("since")``.
        """
        ...

    async def get_document(self, grant_id: str, requester_id: str, entry_id: str) -> Document:
        """The full document; ``NotFound`` if unknown or not this patient's."""
        ...

    async def get_document_pdf(self, grant_id: str, requester_id: str, entry_id: str) -> bytes:
        """The document rendered as PDF (Cyrillic-capable)."""
        ...

    async def analyte_history(
        self,
        grant_id: str,
        requester_id: str,
        analyte_code: str,
        since: date | None = None,
        until: date | None = None,
    ) -> AnalyteHistory:
        """All numeric results of one analyte (``AnalyteResult.code``), oldest first.
        ``NotFound`` if the patient never had it."""
        ...

    # --- appointments (scope APPOINTMENTS) ----------------------------------------------------

    async def list_specialties(self, grant_id: str, requester_id: str) -> list[Specialty]:
        """Specialties the patient may book without a referral."""
        ...

    async def list_referrals(self, grant_id: str, requester_id: str) -> list[Referral]:
        """Active referrals (valid today, not used by a booked/completed visit)."""
        ...

    async def list_doctors(
        self,
        grant_id: str,
        requester_id: str,
        *,
        specialty_code: str | None = None,
        referral_id: str | None = None,
    ) -> list[Doctor]:
        """Doctors the patient may book: of ``specialty_code`` (one open without referral, else
        ``AccessDenied(reason="referral_required")``) or of the referral's specialty/clinic.
        Exactly one of the two is required (``InvalidRequest("specialty_code")``)."""
        ...

    async def free_slots(
        self,
        grant_id: str,
        requester_id: str,
        doctor_id: str,
        date_from: date,
        date_to: date,
    ) -> list[Slot]:
        """Free future slots of one doctor between the two Moscow dates (inclusive), by time."""
        ...

    async def search_free_slots(
        self,
        *,
        doctor_id: str | None = None,
        specialty_code: str | None = None,
        clinic_id: str | None = None,
        date_from: date,
        date_to: date,
    ) -> list[Slot]:
        """Free future slots without a grant (availability is not personal); for the slot-watch
        poller. Needs ``doctor_id`` or ``specialty_code`` (``InvalidRequest("doctor_id")``)."""
        ...

    async def book(
        self,
        grant_id: str,
        requester_id: str,
        slot_id: str,
        idempotency_key: str,
        referral_id: str | None = None,
    ) -> Appointment:
        """Book a free slot.

        The same ``idempotency_key`` (per requester) returns the first result without booking
        again. Concurrent bookings of one slot: exactly one wins, the rest get ``SlotTaken``
        (also for a slot in the past). A referral-only specialty without a valid
        ``referral_id`` -> ``AccessDenied(reason="referral_required")``. An active future visit
        of the same specialty already booked for the patient -> ``AlreadyBooked`` naming it
        (EMIAS keeps one per specialty: that visit is to be rescheduled instead).
        """
        ...

    async def reschedule(
        self,
        grant_id: str,
        requester_id: str,
        appointment_id: str,
        new_slot_id: str,
        idempotency_key: str,
    ) -> Appointment:
        """Move an active visit to another slot of the same doctor or the same specialty.

        Atomic: the old slot is freed only if the new one was secured (else ``SlotTaken`` and
        the visit is unchanged). The appointment keeps its id; ``previous_starts_at`` is set.
        Other specialty -> ``InvalidRequest("new_slot_id")``.
        """
        ...

    async def cancel_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        """Cancel an active future visit (idempotent: cancelling again returns it)."""
        ...

    async def list_appointments(
        self, grant_id: str, requester_id: str, *, upcoming: bool | None = None
    ) -> list[Appointment]:
        """The patient's visits: ``upcoming=True`` active future ones (soonest first),
        ``False`` past or cancelled (newest first), ``None`` all (newest first)."""
        ...

    async def get_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        """One visit of the grant's patient; ``NotFound`` if unknown or another patient's."""
        ...

    # --- events and service -------------------------------------------------------------------

    async def read_events(self, after: str | None = None, limit: int = 100) -> EventBatch:
        """Durable ordered feed (monotonic ids). ``after=None`` reads from the start; pass the
        returned ``cursor`` next time. Events carry ids only, never medical content."""
        ...

    async def health(self) -> None:
        """Return if the backend works, else raise ``BackendUnavailable``."""
        ...

    async def aclose(self) -> None:
        """Release connections; the object is unusable afterwards."""
        ...
