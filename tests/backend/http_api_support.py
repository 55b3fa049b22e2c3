"""Shared by the Records API suites (tests/backend/test_http_api*.py, test_http_transport.py):
a small fake backend that records its calls, the values it answers with, and the fixtures that
serve it over HTTP (`base_url`), talk to it through the client (`client`) or plainly (`raw`).
A suite re-exports the fixtures it uses (``__all__``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any, cast

import aiohttp
import pytest

from backend_client.errors import NotFound
from backend_client.http import HttpRecordsBackend
from backend_client.models import (
    Appointment,
    AppointmentStatus,
    Challenge,
    Clinic,
    Doctor,
    Document,
    EntryPage,
    Grant,
    PatientRef,
    Relation,
    Requester,
    Scope,
    Section,
    Specialty,
)
from backend_client.protocol import RecordsBackend
from backend_client.records_api import running_records_api

TOKEN = "service-token-for-tests"
POLICY = "7700000000000018"
CODE = "493817"
ME = Requester(id="tg-abc", display_name="Иван Петрович С.")
PATIENT = PatientRef(patient_id="p1", display_name="Анна И.", birth_date=date(1990, 5, 1), age=35)
GRANT = Grant(
    grant_id="g1",
    patient=PATIENT,
    requester_id=ME.id,
    requester_name=ME.display_name,
    relation=Relation.SELF,
    scope=Scope.RECORDS,
    created_at=datetime(2026, 1, 1, 9, 30, 15, 123456, tzinfo=UTC),
)
DOCTOR = Doctor(
    doctor_id="d1",
    full_name="Петров Пётр Петрович",
    specialty=Specialty(code="therapist", name="Терапевт", needs_referral=False),
    clinic=Clinic(clinic_id="c1", name="ГП № 1", address="ул. Ленина, 1"),
)
ODD_ID = "e/1 ж?x=1#%2F"
PDF = b"%PDF-1.4\n\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0\n%%EOF"


class FakeBackend:
    """Records what it was called with; ``error`` makes confirm_access fail with it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.error: BaseException | None = None
        self.bookings: dict[tuple[str, str], Appointment] = {}

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    async def find_patient(self, policy: str, birth_date: date) -> PatientRef:
        self._record("find_patient", policy, birth_date)
        if policy == POLICY and birth_date == PATIENT.birth_date:
            return PATIENT
        raise NotFound()

    async def confirm_access(self, challenge_id: str, code: str, requester: Requester) -> Grant:
        self._record("confirm_access", challenge_id, code, requester)
        if self.error is not None:
            raise self.error
        return GRANT

    async def request_access(
        self,
        policy: str,
        birth_date: date,
        requester: Requester,
        relation: Relation,
        scope: Scope,
        expires_at: datetime | None = None,
    ) -> Challenge:
        self._record("request_access", policy, birth_date, requester, relation, scope, expires_at)
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        return Challenge(
            challenge_id="ch1",
            patient_id="p1",
            patient=PATIENT,
            relation=relation,
            scope=scope,
            access_expires_at=expires_at,
            phone_masked="+7 *** ***-45-12",
            expires_at=moment,
            resend_available_at=moment,
            attempts_left=5,
        )

    async def get_grant(self, grant_id: str, requester: Requester) -> Grant:
        self._record("get_grant", grant_id, requester)
        return GRANT

    async def list_entries(self, *args: Any, **kwargs: Any) -> EntryPage:
        self._record("list_entries", *args, **kwargs)
        return EntryPage(items=[], next_cursor=None, total=0)

    async def get_document(self, grant_id: str, requester_id: str, entry_id: str) -> Document:
        self._record("get_document", grant_id, requester_id, entry_id)
        if entry_id != ODD_ID:
            raise NotFound()
        return Document(
            entry_id=entry_id,
            patient_id="p1",
            section=Section.LABS,
            title="ОАК",
            date=date(2026, 11, 25),
        )

    async def get_document_pdf(self, grant_id: str, requester_id: str, entry_id: str) -> bytes:
        return PDF

    async def book(
        self,
        grant_id: str,
        requester_id: str,
        slot_id: str,
        idempotency_key: str,
        referral_id: str | None = None,
    ) -> Appointment:
        self._record("book", grant_id, requester_id, slot_id, idempotency_key, referral_id)
        key = (requester_id, idempotency_key)
        if key not in self.bookings:
            self.bookings[key] = Appointment(
                appointment_id=f"a{len(self.bookings) + 1}",
                patient_id="p1",
                doctor=DOCTOR,
                slot_id=slot_id,
                starts_at=datetime(2026, 2, 1, 6, 0, tzinfo=UTC),
                duration_min=15,
                status=AppointmentStatus.BOOKED,
            )
        return self.bookings[key]

    async def health(self) -> None:
        if self.error is not None:
            raise self.error


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
async def base_url(fake: FakeBackend) -> AsyncIterator[str]:
    async with running_records_api(cast(RecordsBackend, fake), service_token=TOKEN) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[HttpRecordsBackend]:
    async with HttpRecordsBackend(base_url, TOKEN, timeout=2.0, retries=0) as backend:
        yield backend


@pytest.fixture
async def raw(base_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP session with the service token, for requests the client would never send."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(base_url, headers=headers) as session:
        yield session
