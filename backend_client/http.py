"""``RecordsBackend`` over HTTP: the client of the Records API (``backend_client/records_api``).

Retry policy (deliberately conservative): an operation is repeated after a connection error, a
timeout or a 502/503/504 only when ``Endpoint.retry_safe`` says so, i.e. reads, and ``book`` /
``reschedule`` whose ``Idempotency-Key`` makes a repeat return the first result. Everything else
(SMS sends, code confirmation, cancel, revoke, link) is sent once: a lost answer surfaces as
``BackendUnavailable`` and the caller decides.

Time: ``timeout`` bounds one operation, its repeats and the pauses between them included, so a
stalled server costs one ``timeout`` rather than one per attempt (three attempts of 5 s each
were 15 s of silence for the user). ``attempt_timeout`` (by default the same) bounds a single
request; repeats therefore follow quick failures (a refused connection, a 503), and a repeat
that cannot finish in what is left is cut off with the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import ValidationError
from yarl import URL

from backend_client.errors import (
    BackendError,
    BackendUnavailable,
    InvalidRequest,
    error_from_payload,
)
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
from backend_client.records_api import spec
from backend_client.records_api.logs import log_event

if TYPE_CHECKING:
    from backend_client.protocol import RecordsBackend

logger = logging.getLogger(__name__)

ArgsT = TypeVar("ArgsT", bound=spec.Args)
OutT = TypeVar("OutT")

RETRY_STATUSES = frozenset({502, 503, 504})
"""Answers that mean "not processed, try again" (gateway errors and an unavailable backend)."""
BACKOFF_SECONDS = 0.1
"""First pause between attempts; doubled each time, plus up to 50 % jitter."""


class HttpRecordsBackend:
    """One shared ``aiohttp.ClientSession`` (created on first use, closed by ``aclose``)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        attempt_timeout: float | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        if not token or not token.isascii() or any(c.isspace() for c in token):
            raise ValueError("token must be non-empty printable ASCII (it goes in a header)")
        if timeout <= 0 or retries < 0 or (attempt_timeout is not None and attempt_timeout <= 0):
            raise ValueError("timeouts must be > 0 and retries >= 0")
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._operation_timeout = timeout
        self._timeout = aiohttp.ClientTimeout(total=min(timeout, attempt_timeout or timeout))
        self._retries = retries
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> HttpRecordsBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- transport -------------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("HttpRecordsBackend is closed")
        if self._session is None:
            # Created on first use: a session must be created inside the running event loop.
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"Authorization": f"Bearer {self._token}"},
            )
        return self._session

    async def _call(self, endpoint: spec.Endpoint[ArgsT, OutT], args: ArgsT) -> OutT:
        body = await self._send(endpoint, args)
        try:
            return endpoint.response.validate_json(body)
        except ValidationError:
            raise BackendUnavailable(f"{endpoint.op}: malformed response") from None

    async def _send(self, endpoint: spec.Endpoint[ArgsT, Any], args: ArgsT) -> bytes:
        """The body of a 2xx answer within ``timeout``; retries as the module docstring says;
        raises typed errors."""
        budget = asyncio.timeout(self._operation_timeout)
        try:
            async with budget:
                return await self._attempts(endpoint, args, budget)
        except TimeoutError:
            # Only the operation's own deadline gets here: attempts turn theirs into errors.
            log_event(logger, "records_http.timeout", logging.WARNING, op=endpoint.op)
            raise BackendUnavailable(f"{endpoint.op}: no answer in time") from None

    async def _attempts(
        self, endpoint: spec.Endpoint[ArgsT, Any], args: ArgsT, budget: asyncio.Timeout
    ) -> bytes:
        session = self._get_session()
        data = args.model_dump(mode="json", exclude_none=True)
        # Ids are opaque: quote every character that could change the path's meaning.
        path = endpoint.path.format_map(
            {name: quote(str(data.pop(name)), safe="") for name in endpoint.path_fields}
        )
        url = URL(self._base_url + path, encoded=True)
        headers = {
            header: str(data.pop(name))
            for name, header in spec.HEADER_FIELDS.items()
            if name in data
        }
        query = {k: _query_value(v) for k, v in data.items()} if endpoint.method == "GET" else None
        payload = data if endpoint.method == "POST" else None
        attempts = 1 + (self._retries if endpoint.retry_safe else 0)
        error: BackendError = BackendUnavailable(endpoint.op)
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(
                    BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 2)
                )
                log_event(
                    logger, "records_http.retry", logging.WARNING, op=endpoint.op, attempt=attempt
                )
            try:
                async with session.request(
                    endpoint.method, url, params=query, json=payload, headers=headers
                ) as response:
                    status = response.status
                    content = await response.read()
                    if 200 <= status < 300:
                        return content
                    error = _error_from_response(endpoint.op, status, response.headers, content)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if budget.expired():
                    # The budget ran out during the request, and aiohttp's own timer, firing at
                    # the same moment, turned our cancellation into its TimeoutError: stop here.
                    raise TimeoutError from None
                error = BackendUnavailable(f"{endpoint.op}: {type(exc).__name__}")
                continue
            if status not in RETRY_STATUSES:
                break
        raise error

    # --- patients and access ---------------------------------------------------------------------

    async def find_patient(self, policy: str, birth_date: date) -> PatientRef:
        args = _args(spec.FindPatientArgs, policy=policy, birth_date=birth_date)
        return await self._call(spec.FIND_PATIENT, args)

    async def request_access(
        self,
        policy: str,
        birth_date: date,
        requester: Requester,
        relation: Relation,
        scope: Scope,
        expires_at: datetime | None = None,
    ) -> Challenge:
        args = _args(
            spec.RequestAccessArgs,
            policy=policy,
            birth_date=birth_date,
            requester=requester,
            relation=relation,
            scope=scope,
            expires_at=expires_at,
        )
        return await self._call(spec.REQUEST_ACCESS, args)

    async def resend_code(self, challenge_id: str, requester: Requester) -> Challenge:
        args = _args(spec.ChallengeArgs, challenge_id=challenge_id, requester=requester)
        return await self._call(spec.RESEND_CODE, args)

    async def confirm_access(self, challenge_id: str, code: str, requester: Requester) -> Grant:
        args = _args(
            spec.ConfirmAccessArgs, challenge_id=challenge_id, code=code, requester=requester
        )
        return await self._call(spec.CONFIRM_ACCESS, args)

    async def link_child(
        self,
        parent_grant_id: str,
        requester: Requester,
        child_policy: str,
        child_birth_date: date,
    ) -> Grant:
        args = _args(
            spec.LinkChildArgs,
            parent_grant_id=parent_grant_id,
            requester=requester,
            child_policy=child_policy,
            child_birth_date=child_birth_date,
        )
        return await self._call(spec.LINK_CHILD, args)

    async def get_grant(self, grant_id: str, requester: Requester) -> Grant:
        args = _args(spec.GrantRequesterArgs, grant_id=grant_id, **_flat(requester))
        return await self._call(spec.GET_GRANT, args)

    async def list_grants_received(self, requester_id: str) -> list[Grant]:
        args = _args(spec.RequesterIdArgs, requester_id=requester_id)
        return await self._call(spec.LIST_GRANTS_RECEIVED, args)

    async def list_grants_given(self, owner_grant_id: str, requester: Requester) -> list[Grant]:
        args = _args(spec.GrantRequesterArgs, grant_id=owner_grant_id, **_flat(requester))
        return await self._call(spec.LIST_GRANTS_GIVEN, args)

    async def revoke_grant(self, grant_id: str, requester: Requester) -> Grant:
        args = _args(spec.RevokeGrantArgs, grant_id=grant_id, requester=requester)
        return await self._call(spec.REVOKE_GRANT, args)

    async def access_log(
        self, owner_grant_id: str, requester: Requester, *, limit: int = 50
    ) -> list[AccessLogEntry]:
        args = _args(spec.AccessLogArgs, grant_id=owner_grant_id, limit=limit, **_flat(requester))
        return await self._call(spec.ACCESS_LOG, args)

    # --- the record ------------------------------------------------------------------------------

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
        args = _args(
            spec.ListEntriesArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            section=section,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )
        return await self._call(spec.LIST_ENTRIES, args)

    async def get_document(self, grant_id: str, requester_id: str, entry_id: str) -> Document:
        args = _args(
            spec.EntryArgs, grant_id=grant_id, requester_id=requester_id, entry_id=entry_id
        )
        return await self._call(spec.GET_DOCUMENT, args)

    async def get_document_pdf(self, grant_id: str, requester_id: str, entry_id: str) -> bytes:
        args = _args(
            spec.EntryArgs, grant_id=grant_id, requester_id=requester_id, entry_id=entry_id
        )
        content = await self._send(spec.GET_DOCUMENT_PDF, args)
        if not content.startswith(b"%PDF-"):  # e.g. a proxy's HTML page with status 200
            raise BackendUnavailable("get_document_pdf: not a PDF")
        return content

    async def analyte_history(
        self,
        grant_id: str,
        requester_id: str,
        analyte_code: str,
        since: date | None = None,
        until: date | None = None,
    ) -> AnalyteHistory:
        args = _args(
            spec.AnalyteHistoryArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            analyte_code=analyte_code,
            since=since,
            until=until,
        )
        return await self._call(spec.ANALYTE_HISTORY, args)

    # --- appointments ----------------------------------------------------------------------------

    async def list_specialties(self, grant_id: str, requester_id: str) -> list[Specialty]:
        args = _args(spec.GrantArgs, grant_id=grant_id, requester_id=requester_id)
        return await self._call(spec.LIST_SPECIALTIES, args)

    async def list_referrals(self, grant_id: str, requester_id: str) -> list[Referral]:
        args = _args(spec.GrantArgs, grant_id=grant_id, requester_id=requester_id)
        return await self._call(spec.LIST_REFERRALS, args)

    async def list_doctors(
        self,
        grant_id: str,
        requester_id: str,
        *,
        specialty_code: str | None = None,
        referral_id: str | None = None,
    ) -> list[Doctor]:
        args = _args(
            spec.ListDoctorsArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            specialty_code=specialty_code,
            referral_id=referral_id,
        )
        return await self._call(spec.LIST_DOCTORS, args)

    async def free_slots(
        self,
        grant_id: str,
        requester_id: str,
        doctor_id: str,
        date_from: date,
        date_to: date,
    ) -> list[Slot]:
        args = _args(
            spec.FreeSlotsArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            doctor_id=doctor_id,
            date_from=date_from,
            date_to=date_to,
        )
        return await self._call(spec.FREE_SLOTS, args)

    async def search_free_slots(
        self,
        *,
        doctor_id: str | None = None,
        specialty_code: str | None = None,
        clinic_id: str | None = None,
        date_from: date,
        date_to: date,
    ) -> list[Slot]:
        args = _args(
            spec.SearchSlotsArgs,
            doctor_id=doctor_id,
            specialty_code=specialty_code,
            clinic_id=clinic_id,
            date_from=date_from,
            date_to=date_to,
        )
        return await self._call(spec.SEARCH_FREE_SLOTS, args)

    async def book(
        self,
        grant_id: str,
        requester_id: str,
        slot_id: str,
        idempotency_key: str,
        referral_id: str | None = None,
    ) -> Appointment:
        args = _args(
            spec.BookArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            slot_id=slot_id,
            idempotency_key=idempotency_key,
            referral_id=referral_id,
        )
        return await self._call(spec.BOOK, args)

    async def reschedule(
        self,
        grant_id: str,
        requester_id: str,
        appointment_id: str,
        new_slot_id: str,
        idempotency_key: str,
    ) -> Appointment:
        args = _args(
            spec.RescheduleArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            appointment_id=appointment_id,
            new_slot_id=new_slot_id,
            idempotency_key=idempotency_key,
        )
        return await self._call(spec.RESCHEDULE, args)

    async def cancel_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        args = _args(
            spec.AppointmentArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            appointment_id=appointment_id,
        )
        return await self._call(spec.CANCEL_APPOINTMENT, args)

    async def list_appointments(
        self, grant_id: str, requester_id: str, *, upcoming: bool | None = None
    ) -> list[Appointment]:
        args = _args(
            spec.ListAppointmentsArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            upcoming=upcoming,
        )
        return await self._call(spec.LIST_APPOINTMENTS, args)

    async def get_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        args = _args(
            spec.AppointmentArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            appointment_id=appointment_id,
        )
        return await self._call(spec.GET_APPOINTMENT, args)

    # --- events and service ----------------------------------------------------------------------

    async def read_events(self, after: str | None = None, limit: int = 100) -> EventBatch:
        args = _args(spec.ReadEventsArgs, after=after, limit=limit)
        return await self._call(spec.READ_EVENTS, args)

    async def health(self) -> None:
        await self._call(spec.HEALTH, spec.NoArgs())

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _args(model: type[ArgsT], **values: Any) -> ArgsT:
    """Build the wire args; a wrongly typed argument is the caller's ``InvalidRequest``."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        loc = exc.errors(include_url=False, include_input=False)[0]["loc"]
        raise InvalidRequest(".".join(str(part) for part in loc)) from None


def _flat(requester: Requester) -> dict[str, str]:
    return {"requester_id": requester.id}


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_from_response(op: str, status: int, headers: Any, content: bytes) -> BackendError:
    """The typed error an answer carries; anything the client cannot trust -> unavailable."""
    if status >= 500:
        # Nothing we can act on beyond "try later", whatever the body says.
        return BackendUnavailable(f"{op}: HTTP {status}")
    if status == 401:
        # A deployment problem, not the patient's: the bot shows "service unavailable".
        log_event(logger, "records_http.unauthorized", logging.ERROR, op=op)
        return BackendUnavailable(f"{op}: service token rejected")
    try:
        payload = json.loads(content)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("code"), str):
        return BackendUnavailable(f"{op}: unexpected HTTP {status}")
    if payload["code"] in ("rate_limited", "lookup_locked") and "retry_after" not in payload:
        payload["retry_after"] = _int_or(headers.get("Retry-After"), 60)
    # Unknown codes (a newer server, or unknown_endpoint) become a plain BackendError.
    return error_from_payload(payload)


def _int_or(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


if TYPE_CHECKING:

    def _conforms(backend: HttpRecordsBackend) -> RecordsBackend:
        return backend
