"""``RecordsBackend`` over HTTP: the client of the Records API (``backend_client/records_api``).

Each method builds its operation's ``Args`` and sends them to its ``Endpoint``; sessions,
timeouts, repeats and error mapping are ``HttpTransport``'s (``http_transport.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from backend_client.errors import BackendUnavailable, InvalidRequest
from backend_client.http_transport import ArgsT, HttpTransport
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
from backend_client.records_api import spec, spec_access, spec_appointments, spec_record

if TYPE_CHECKING:
    from backend_client.protocol import RecordsBackend


class HttpRecordsBackend(HttpTransport):
    """Every ``RecordsBackend`` operation as a request to the Records API."""

    # --- patients and access ---------------------------------------------------------------------

    async def find_patient(self, policy: str, birth_date: date) -> PatientRef:
        args = _args(spec_access.FindPatientArgs, policy=policy, birth_date=birth_date)
        return await self._call(spec_access.FIND_PATIENT, args)

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
            spec_access.RequestAccessArgs,
            policy=policy,
            birth_date=birth_date,
            requester=requester,
            relation=relation,
            scope=scope,
            expires_at=expires_at,
        )
        return await self._call(spec_access.REQUEST_ACCESS, args)

    async def resend_code(self, challenge_id: str, requester: Requester) -> Challenge:
        args = _args(spec_access.ChallengeArgs, challenge_id=challenge_id, requester=requester)
        return await self._call(spec_access.RESEND_CODE, args)

    async def confirm_access(self, challenge_id: str, code: str, requester: Requester) -> Grant:
        args = _args(
            spec_access.ConfirmAccessArgs, challenge_id=challenge_id, code=code, requester=requester
        )
        return await self._call(spec_access.CONFIRM_ACCESS, args)

    async def link_child(
        self,
        parent_grant_id: str,
        requester: Requester,
        child_policy: str,
        child_birth_date: date,
    ) -> Grant:
        args = _args(
            spec_access.LinkChildArgs,
            parent_grant_id=parent_grant_id,
            requester=requester,
            child_policy=child_policy,
            child_birth_date=child_birth_date,
        )
        return await self._call(spec_access.LINK_CHILD, args)

    async def get_grant(self, grant_id: str, requester: Requester) -> Grant:
        args = _args(spec_access.GrantRequesterArgs, grant_id=grant_id, **_flat(requester))
        return await self._call(spec_access.GET_GRANT, args)

    async def list_grants_received(self, requester_id: str) -> list[Grant]:
        args = _args(spec_access.RequesterIdArgs, requester_id=requester_id)
        return await self._call(spec_access.LIST_GRANTS_RECEIVED, args)

    async def list_grants_given(self, owner_grant_id: str, requester: Requester) -> list[Grant]:
        args = _args(spec_access.GrantRequesterArgs, grant_id=owner_grant_id, **_flat(requester))
        return await self._call(spec_access.LIST_GRANTS_GIVEN, args)

    async def revoke_grant(self, grant_id: str, requester: Requester) -> Grant:
        args = _args(spec_access.RevokeGrantArgs, grant_id=grant_id, requester=requester)
        return await self._call(spec_access.REVOKE_GRANT, args)

    async def access_log(
        self, owner_grant_id: str, requester: Requester, *, limit: int = 50
    ) -> list[AccessLogEntry]:
        args = _args(
            spec_access.AccessLogArgs, grant_id=owner_grant_id, limit=limit, **_flat(requester)
        )
        return await self._call(spec_access.ACCESS_LOG, args)

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
            spec_record.ListEntriesArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            section=section,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )
        return await self._call(spec_record.LIST_ENTRIES, args)

    async def get_document(self, grant_id: str, requester_id: str, entry_id: str) -> Document:
        args = _args(
            spec_record.EntryArgs, grant_id=grant_id, requester_id=requester_id, entry_id=entry_id
        )
        return await self._call(spec_record.GET_DOCUMENT, args)

    async def get_document_pdf(self, grant_id: str, requester_id: str, entry_id: str) -> bytes:
        args = _args(
            spec_record.EntryArgs, grant_id=grant_id, requester_id=requester_id, entry_id=entry_id
        )
        content = await self._send(spec_record.GET_DOCUMENT_PDF, args)
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
            spec_record.AnalyteHistoryArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            analyte_code=analyte_code,
            since=since,
            until=until,
        )
        return await self._call(spec_record.ANALYTE_HISTORY, args)

    # --- appointments ----------------------------------------------------------------------------

    async def list_specialties(self, grant_id: str, requester_id: str) -> list[Specialty]:
        args = _args(spec.GrantArgs, grant_id=grant_id, requester_id=requester_id)
        return await self._call(spec_appointments.LIST_SPECIALTIES, args)

    async def list_referrals(self, grant_id: str, requester_id: str) -> list[Referral]:
        args = _args(spec.GrantArgs, grant_id=grant_id, requester_id=requester_id)
        return await self._call(spec_appointments.LIST_REFERRALS, args)

    async def list_doctors(
        self,
        grant_id: str,
        requester_id: str,
        *,
        specialty_code: str | None = None,
        referral_id: str | None = None,
    ) -> list[Doctor]:
        args = _args(
            spec_appointments.ListDoctorsArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            specialty_code=specialty_code,
            referral_id=referral_id,
        )
        return await self._call(spec_appointments.LIST_DOCTORS, args)

    async def free_slots(
        self,
        grant_id: str,
        requester_id: str,
        doctor_id: str,
        date_from: date,
        date_to: date,
    ) -> list[Slot]:
        args = _args(
            spec_appointments.FreeSlotsArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            doctor_id=doctor_id,
            date_from=date_from,
            date_to=date_to,
        )
        return await self._call(spec_appointments.FREE_SLOTS, args)

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
            spec_appointments.SearchSlotsArgs,
            doctor_id=doctor_id,
            specialty_code=specialty_code,
            clinic_id=clinic_id,
            date_from=date_from,
            date_to=date_to,
        )
        return await self._call(spec_appointments.SEARCH_FREE_SLOTS, args)

    async def book(
        self,
        grant_id: str,
        requester_id: str,
        slot_id: str,
        idempotency_key: str,
        referral_id: str | None = None,
    ) -> Appointment:
        args = _args(
            spec_appointments.BookArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            slot_id=slot_id,
            idempotency_key=idempotency_key,
            referral_id=referral_id,
        )
        return await self._call(spec_appointments.BOOK, args)

    async def reschedule(
        self,
        grant_id: str,
        requester_id: str,
        appointment_id: str,
        new_slot_id: str,
        idempotency_key: str,
    ) -> Appointment:
        args = _args(
            spec_appointments.RescheduleArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            appointment_id=appointment_id,
            new_slot_id=new_slot_id,
            idempotency_key=idempotency_key,
        )
        return await self._call(spec_appointments.RESCHEDULE, args)

    async def cancel_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        args = _args(
            spec_appointments.AppointmentArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            appointment_id=appointment_id,
        )
        return await self._call(spec_appointments.CANCEL_APPOINTMENT, args)

    async def list_appointments(
        self, grant_id: str, requester_id: str, *, upcoming: bool | None = None
    ) -> list[Appointment]:
        args = _args(
            spec_appointments.ListAppointmentsArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            upcoming=upcoming,
        )
        return await self._call(spec_appointments.LIST_APPOINTMENTS, args)

    async def get_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        args = _args(
            spec_appointments.AppointmentArgs,
            grant_id=grant_id,
            requester_id=requester_id,
            appointment_id=appointment_id,
        )
        return await self._call(spec_appointments.GET_APPOINTMENT, args)

    # --- events and service ----------------------------------------------------------------------

    async def read_events(self, after: str | None = None, limit: int = 100) -> EventBatch:
        args = _args(spec_record.ReadEventsArgs, after=after, limit=limit)
        return await self._call(spec_record.READ_EVENTS, args)

    async def health(self) -> None:
        await self._call(spec_record.HEALTH, spec_record.NoArgs())


def _args(model: type[ArgsT], **values: Any) -> ArgsT:
    """Build the wire args; a wrongly typed argument is the caller's ``InvalidRequest``."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        loc = exc.errors(include_url=False, include_input=False)[0]["loc"]
        raise InvalidRequest(".".join(str(part) for part in loc)) from None


def _flat(requester: Requester) -> dict[str, str]:
    return {"requester_id": requester.id}


if TYPE_CHECKING:

    def _conforms(backend: HttpRecordsBackend) -> RecordsBackend:
        return backend
