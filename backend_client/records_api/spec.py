"""The Records API's wire contract as data: one ``Endpoint`` per protocol operation.

The server (``app.py``) routes and parses with it, the client (``backend_client.http``) builds
requests with it and ``openapi.py`` renders ``openapi.yaml`` from it, so the three cannot drift.

Each endpoint has one pydantic ``Args`` model holding every input of the operation. Where a field
travels follows from the endpoint, not from per-field annotations: names in ``{}`` of the path
go in the path, ``idempotency_key`` goes in the ``Idempotency-Key`` header, the rest is the query
string of a GET or the JSON body of a POST. Args models only check types; the backend itself
validates values (so errors are the same in-process and over HTTP).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter

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
from backend_client.protocol import RecordsBackend

HEADER_FIELDS: dict[str, str] = {"idempotency_key": "Idempotency-Key"}
"""Args fields sent as HTTP headers (field name -> header name)."""


class Args(BaseModel):
    # extra="forbid": a misspelt query parameter or body field is a 400, not silently ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")


class HealthStatus(BaseModel):
    """Body of a successful ``GET /v1/health``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    status: Literal["ok"] = "ok"


ArgsT = TypeVar("ArgsT", bound=Args)
OutT = TypeVar("OutT")


@dataclass(frozen=True, eq=False)
class Endpoint(Generic[ArgsT, OutT]):
    op: str
    """The ``RecordsBackend`` method (also the route name and the OpenAPI ``operationId``)."""
    method: Literal["GET", "POST"]
    path: str
    summary: str
    args: type[ArgsT]
    response: TypeAdapter[OutT]
    call: Callable[[RecordsBackend, ArgsT], Awaitable[OutT]]
    errors: tuple[str, ...] = ()
    """Error codes the operation may answer besides invalid_request / backend_unavailable."""
    retry_safe: bool = False
    """Clients may repeat the request after a timeout / 502-504 (reads and keyed writes only)."""
    media_type: str = "application/json"
    path_fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_fields", tuple(re.findall(r"\{(\w+)\}", self.path)))


# --- Args models ---------------------------------------------------------------------------------
# GET endpoints identify the requester by id alone: a display name (personal data) has no
# place in a URL, where proxies and access logs would keep it.


class FindPatientArgs(Args):
    policy: str
    birth_date: date


class RequestAccessArgs(Args):
    policy: str
    birth_date: date
    requester: Requester
    relation: Relation
    scope: Scope
    expires_at: datetime | None = None


class ChallengeArgs(Args):
    challenge_id: str
    requester: Requester


class ConfirmAccessArgs(Args):
    challenge_id: str
    code: str
    requester: Requester


class LinkChildArgs(Args):
    parent_grant_id: str
    requester: Requester
    child_policy: str
    child_birth_date: date


class GrantRequesterArgs(Args):
    grant_id: str
    requester_id: str

    def requester(self) -> Requester:
        # Reads check the grant by requester id only; the name matters only in an SMS.
        return Requester(id=self.requester_id, display_name="")


class RequesterIdArgs(Args):
    requester_id: str


class RevokeGrantArgs(Args):
    grant_id: str
    requester: Requester


class AccessLogArgs(GrantRequesterArgs):
    limit: int = 50


class GrantArgs(Args):
    grant_id: str
    requester_id: str


class ListEntriesArgs(GrantArgs):
    section: Section
    since: date | None = None
    until: date | None = None
    cursor: str | None = None
    limit: int = 8


class EntryArgs(GrantArgs):
    entry_id: str


class AnalyteHistoryArgs(GrantArgs):
    analyte_code: str
    since: date | None = None
    until: date | None = None


class ListDoctorsArgs(GrantArgs):
    specialty_code: str | None = None
    referral_id: str | None = None


class FreeSlotsArgs(GrantArgs):
    doctor_id: str
    date_from: date
    date_to: date


class SearchSlotsArgs(Args):
    doctor_id: str | None = None
    specialty_code: str | None = None
    clinic_id: str | None = None
    date_from: date
    date_to: date


class BookArgs(GrantArgs):
    slot_id: str
    idempotency_key: str
    referral_id: str | None = None


class RescheduleArgs(GrantArgs):
    appointment_id: str
    new_slot_id: str
    idempotency_key: str


class AppointmentArgs(GrantArgs):
    appointment_id: str


class ListAppointmentsArgs(GrantArgs):
    upcoming: bool | None = None


class ReadEventsArgs(Args):
    after: str | None = None
    limit: int = 100


class NoArgs(Args):
    pass


async def _health(backend: RecordsBackend) -> HealthStatus:
    await backend.health()
    return HealthStatus()


_ACCESS = ("access_denied", "not_found")

# --- patients and access -------------------------------------------------------------------------

FIND_PATIENT = Endpoint(
    "find_patient",
    "POST",  # a read, but POST keeps the policy number out of URLs (and so out of access logs)
    "/v1/patients/lookup",
    "Find a patient by policy (ЕНП) and birth date",
    FindPatientArgs,
    TypeAdapter(PatientRef),
    lambda b, a: b.find_patient(a.policy, a.birth_date),
    errors=("not_found", "lookup_locked"),
    retry_safe=True,
)
REQUEST_ACCESS = Endpoint(
    "request_access",
    "POST",
    "/v1/access-requests",
    "Start linking a card: send an SMS code to the card's phone",
    RequestAccessArgs,
    TypeAdapter(Challenge),
    lambda b, a: b.request_access(
        a.policy, a.birth_date, a.requester, a.relation, a.scope, a.expires_at
    ),
    errors=("not_found", "lookup_locked", "rate_limited", "grant_limit_reached"),
)
RESEND_CODE = Endpoint(
    "resend_code",
    "POST",
    "/v1/access-requests/{challenge_id}/resend",
    "Send a fresh code for the same request",
    ChallengeArgs,
    TypeAdapter(Challenge),
    lambda b, a: b.resend_code(a.challenge_id, a.requester),
    errors=("not_found", "rate_limited", "code_exhausted"),
)
CONFIRM_ACCESS = Endpoint(
    "confirm_access",
    "POST",
    "/v1/access-requests/{challenge_id}/confirm",
    "Check the SMS code and create the grant",
    ConfirmAccessArgs,
    TypeAdapter(Grant),
    lambda b, a: b.confirm_access(a.challenge_id, a.code, a.requester),
    errors=("not_found", "code_wrong", "code_expired", "code_exhausted", "grant_limit_reached"),
)
LINK_CHILD = Endpoint(
    "link_child",
    "POST",
    "/v1/grants/{parent_grant_id}/children",
    "Link a child under 15 through the parent's SELF grant",
    LinkChildArgs,
    TypeAdapter(Grant),
    lambda b, a: b.link_child(a.parent_grant_id, a.requester, a.child_policy, a.child_birth_date),
    errors=(*_ACCESS, "lookup_locked"),
)
GET_GRANT = Endpoint(
    "get_grant",
    "GET",
    "/v1/grants/{grant_id}",
    "The requester's own active grant",
    GrantRequesterArgs,
    TypeAdapter(Grant),
    lambda b, a: b.get_grant(a.grant_id, a.requester()),
    errors=_ACCESS,
    retry_safe=True,
)
LIST_GRANTS_RECEIVED = Endpoint(
    "list_grants_received",
    "GET",
    "/v1/requesters/{requester_id}/grants",
    "The requester's active grants",
    RequesterIdArgs,
    TypeAdapter(list[Grant]),
    lambda b, a: b.list_grants_received(a.requester_id),
    retry_safe=True,
)
LIST_GRANTS_GIVEN = Endpoint(
    "list_grants_given",
    "GET",
    "/v1/grants/{grant_id}/recipients",
    "Who has access to the owner's card (through the owner's SELF grant)",
    GrantRequesterArgs,
    TypeAdapter(list[Grant]),
    lambda b, a: b.list_grants_given(a.grant_id, a.requester()),
    errors=_ACCESS,
    retry_safe=True,
)
REVOKE_GRANT = Endpoint(
    "revoke_grant",
    "POST",
    "/v1/grants/{grant_id}/revoke",
    "Revoke a grant (its grantee or the card owner)",
    RevokeGrantArgs,
    TypeAdapter(Grant),
    lambda b, a: b.revoke_grant(a.grant_id, a.requester),
    errors=_ACCESS,
)
ACCESS_LOG = Endpoint(
    "access_log",
    "GET",
    "/v1/grants/{grant_id}/access-log",
    "Who did what with the owner's card, newest first",
    AccessLogArgs,
    TypeAdapter(list[AccessLogEntry]),
    lambda b, a: b.access_log(a.grant_id, a.requester(), limit=a.limit),
    errors=_ACCESS,
    retry_safe=True,
)

# --- the record ----------------------------------------------------------------------------------

LIST_ENTRIES = Endpoint(
    "list_entries",
    "GET",
    "/v1/grants/{grant_id}/sections/{section}/entries",
    "One page of a section of the record, newest first",
    ListEntriesArgs,
    TypeAdapter(EntryPage),
    lambda b, a: b.list_entries(
        a.grant_id,
        a.requester_id,
        a.section,
        since=a.since,
        until=a.until,
        cursor=a.cursor,
        limit=a.limit,
    ),
    errors=_ACCESS,
    retry_safe=True,
)
GET_DOCUMENT = Endpoint(
    "get_document",
    "GET",
    "/v1/grants/{grant_id}/documents/{entry_id}",
    "One document of the record",
    EntryArgs,
    TypeAdapter(Document),
    lambda b, a: b.get_document(a.grant_id, a.requester_id, a.entry_id),
    errors=_ACCESS,
    retry_safe=True,
)
GET_DOCUMENT_PDF = Endpoint(
    "get_document_pdf",
    "GET",
    "/v1/grants/{grant_id}/documents/{entry_id}/pdf",
    "One document rendered as PDF",
    EntryArgs,
    TypeAdapter(bytes),
    lambda b, a: b.get_document_pdf(a.grant_id, a.requester_id, a.entry_id),
    errors=_ACCESS,
    retry_safe=True,
    media_type="application/pdf",
)
ANALYTE_HISTORY = Endpoint(
    "analyte_history",
    "GET",
    "/v1/grants/{grant_id}/analytes/{analyte_code}",
    "All numeric results of one analyte, oldest first",
    AnalyteHistoryArgs,
    TypeAdapter(AnalyteHistory),
    lambda b, a: b.analyte_history(a.grant_id, a.requester_id, a.analyte_code, a.since, a.until),
    errors=_ACCESS,
    retry_safe=True,
)

# --- appointments --------------------------------------------------------------------------------

LIST_SPECIALTIES = Endpoint(
    "list_specialties",
    "GET",
    "/v1/grants/{grant_id}/specialties",
    "Specialties the patient may book without a referral",
    GrantArgs,
    TypeAdapter(list[Specialty]),
    lambda b, a: b.list_specialties(a.grant_id, a.requester_id),
    errors=_ACCESS,
    retry_safe=True,
)
LIST_REFERRALS = Endpoint(
    "list_referrals",
    "GET",
    "/v1/grants/{grant_id}/referrals",
    "Active referrals",
    GrantArgs,
    TypeAdapter(list[Referral]),
    lambda b, a: b.list_referrals(a.grant_id, a.requester_id),
    errors=_ACCESS,
    retry_safe=True,
)
LIST_DOCTORS = Endpoint(
    "list_doctors",
    "GET",
    "/v1/grants/{grant_id}/doctors",
    "Doctors the patient may book (by specialty_code or referral_id)",
    ListDoctorsArgs,
    TypeAdapter(list[Doctor]),
    lambda b, a: b.list_doctors(
        a.grant_id, a.requester_id, specialty_code=a.specialty_code, referral_id=a.referral_id
    ),
    errors=_ACCESS,
    retry_safe=True,
)
FREE_SLOTS = Endpoint(
    "free_slots",
    "GET",
    "/v1/grants/{grant_id}/doctors/{doctor_id}/slots",
    "Free future slots of one doctor between two Moscow dates",
    FreeSlotsArgs,
    TypeAdapter(list[Slot]),
    lambda b, a: b.free_slots(a.grant_id, a.requester_id, a.doctor_id, a.date_from, a.date_to),
    errors=_ACCESS,
    retry_safe=True,
)
SEARCH_FREE_SLOTS = Endpoint(
    "search_free_slots",
    "GET",
    "/v1/slots",
    "Free future slots without a grant (for the slot-watch poller)",
    SearchSlotsArgs,
    TypeAdapter(list[Slot]),
    lambda b, a: b.search_free_slots(
        doctor_id=a.doctor_id,
        specialty_code=a.specialty_code,
        clinic_id=a.clinic_id,
        date_from=a.date_from,
        date_to=a.date_to,
    ),
    errors=("not_found",),
    retry_safe=True,
)
BOOK = Endpoint(
    "book",
    "POST",
    "/v1/grants/{grant_id}/appointments",
    "Book a free slot (idempotent per Idempotency-Key and requester)",
    BookArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.book(a.grant_id, a.requester_id, a.slot_id, a.idempotency_key, a.referral_id),
    errors=(*_ACCESS, "slot_taken"),
    retry_safe=True,  # only because the Idempotency-Key makes a repeat return the first result
)
RESCHEDULE = Endpoint(
    "reschedule",
    "POST",
    "/v1/grants/{grant_id}/appointments/{appointment_id}/reschedule",
    "Move an active visit to another slot (idempotent per Idempotency-Key and requester)",
    RescheduleArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.reschedule(
        a.grant_id, a.requester_id, a.appointment_id, a.new_slot_id, a.idempotency_key
    ),
    errors=(*_ACCESS, "slot_taken"),
    retry_safe=True,  # as for book
)
CANCEL_APPOINTMENT = Endpoint(
    "cancel_appointment",
    "POST",
    "/v1/grants/{grant_id}/appointments/{appointment_id}/cancel",
    "Cancel an active future visit",
    AppointmentArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.cancel_appointment(a.grant_id, a.requester_id, a.appointment_id),
    errors=_ACCESS,
)
LIST_APPOINTMENTS = Endpoint(
    "list_appointments",
    "GET",
    "/v1/grants/{grant_id}/appointments",
    "The patient's visits (upcoming=true/false filters)",
    ListAppointmentsArgs,
    TypeAdapter(list[Appointment]),
    lambda b, a: b.list_appointments(a.grant_id, a.requester_id, upcoming=a.upcoming),
    errors=_ACCESS,
    retry_safe=True,
)
GET_APPOINTMENT = Endpoint(
    "get_appointment",
    "GET",
    "/v1/grants/{grant_id}/appointments/{appointment_id}",
    "One visit of the grant's patient",
    AppointmentArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.get_appointment(a.grant_id, a.requester_id, a.appointment_id),
    errors=_ACCESS,
    retry_safe=True,
)

# --- events and service --------------------------------------------------------------------------

READ_EVENTS = Endpoint(
    "read_events",
    "GET",
    "/v1/events",
    "The durable ordered event feed (ids only, never medical content)",
    ReadEventsArgs,
    TypeAdapter(EventBatch),
    lambda b, a: b.read_events(a.after, a.limit),
    retry_safe=True,
)
HEALTH = Endpoint(
    "health",
    "GET",
    "/v1/health",
    "200 if the backend works, else 503 backend_unavailable",
    NoArgs,
    TypeAdapter(HealthStatus),
    lambda b, a: _health(b),
    retry_safe=True,
)

ENDPOINTS: tuple[Endpoint[Any, Any], ...] = (
    FIND_PATIENT,
    REQUEST_ACCESS,
    RESEND_CODE,
    CONFIRM_ACCESS,
    LINK_CHILD,
    GET_GRANT,
    LIST_GRANTS_RECEIVED,
    LIST_GRANTS_GIVEN,
    REVOKE_GRANT,
    ACCESS_LOG,
    LIST_ENTRIES,
    GET_DOCUMENT,
    GET_DOCUMENT_PDF,
    ANALYTE_HISTORY,
    LIST_SPECIALTIES,
    LIST_REFERRALS,
    LIST_DOCTORS,
    FREE_SLOTS,
    SEARCH_FREE_SLOTS,
    BOOK,
    RESCHEDULE,
    CANCEL_APPOINTMENT,
    LIST_APPOINTMENTS,
    GET_APPOINTMENT,
    READ_EVENTS,
    HEALTH,
)

# --- errors --------------------------------------------------------------------------------------

STATUS_BY_CODE: dict[str, int] = {
    "invalid_request": 400,
    "access_denied": 403,
    "not_found": 404,
    "slot_taken": 409,
    "grant_limit_reached": 409,
    "code_expired": 410,
    "code_exhausted": 410,
    "code_wrong": 422,
    "rate_limited": 429,
    "lookup_locked": 429,
    "backend_error": 500,
    "backend_unavailable": 503,
}
"""HTTP status of each ``BackendError.code``; the body is always ``err.to_payload()``."""

UNAUTHORIZED = "unauthorized"
"""Code of the 401 answer (missing or wrong service token); not a ``BackendError``."""
