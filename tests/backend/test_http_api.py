"""The Records API server and its client, against a small fake backend: authentication, input
checking, error mapping both ways, PDFs, path quoting and what gets logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast

import aiohttp
import pytest

from backend_client.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    CodeExhausted,
    CodeExpired,
    CodeWrong,
    GrantLimitReached,
    InvalidRequest,
    NotFound,
    RateLimited,
    SlotTaken,
)
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


# --- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
@pytest.mark.parametrize("path", ["/v1/health", "/v1/events", "/v1/no-such-thing"])
async def test_requests_without_the_service_token_get_401(
    base_url: str, fake: FakeBackend, headers: dict[str, str], path: str
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url + path, headers=headers) as r,
    ):
        assert r.status == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert (await r.json())["code"] == "unauthorized"
    assert fake.calls == []


async def test_client_with_a_wrong_token_reports_the_backend_unavailable(base_url: str) -> None:
    async with HttpRecordsBackend(base_url, "wrong", retries=2) as backend:
        with pytest.raises(BackendUnavailable, match="token"):
            await backend.health()


async def test_health(
    client: HttpRecordsBackend, raw: aiohttp.ClientSession, fake: FakeBackend
) -> None:
    await client.health()
    async with raw.get("/v1/health") as r:
        assert (r.status, await r.json()) == (200, {"status": "ok"})
    fake.error = BackendUnavailable("db down")
    with pytest.raises(BackendUnavailable):
        await client.health()


# --- malformed requests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"\xff\xfe", "body"),
        (b"[1, 2]", "body"),
        (b"", "policy"),
        (b'{"birth_date": "1990-05-01"}', "policy"),
        (b'{"policy": 7700000000000018, "birth_date": "1990-05-01"}', "policy"),
        (b'{"policy": "7700000000000018", "birth_date": "1990-13-45"}', "birth_date"),
        (b'{"policy": "7700000000000018", "birth_date": null}', "birth_date"),
        (b'{"policy": "7700000000000018", "birth_date": "1990-05-01", "x": 1}', "x"),
    ],
)
async def test_malformed_bodies_are_400_naming_the_field(
    raw: aiohttp.ClientSession, fake: FakeBackend, body: bytes, field: str
) -> None:
    headers = {"Content-Type": "application/json"}
    async with raw.post("/v1/patients/lookup", data=body, headers=headers) as r:
        assert r.status == 400
        payload = await r.json()
    assert payload["code"] == "invalid_request"
    assert payload["field"] == field
    assert POLICY not in str(payload)  # errors never echo the input
    assert fake.calls == []


async def test_nested_field_errors_name_the_path(raw: aiohttp.ClientSession) -> None:
    body = {"code": CODE, "requester": {"id": "tg-1"}}
    async with raw.post("/v1/access-requests/ch1/confirm", json=body) as r:
        assert (r.status, (await r.json())["field"]) == (400, "requester.display_name")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "requester_id"),
        ("requester_id=u&limit=abc", "limit"),
        ("requester_id=u&since=yesterday", "since"),
        ("requester_id=u&until=2026-02-30", "until"),
        ("requester_id=u&limit=5&limit=6", "limit"),
        ("requester_id=u&colour=blue", "colour"),
        ("requester_id=u&grant_id=g2", "grant_id"),
    ],
)
async def test_malformed_queries_are_400_naming_the_field(
    raw: aiohttp.ClientSession, query: str, field: str
) -> None:
    async with raw.get(f"/v1/grants/g1/sections/labs/entries?{query}") as r:
        assert r.status == 400
        assert (await r.json())["field"] == field


async def test_unknown_section_is_400(raw: aiohttp.ClientSession) -> None:
    async with raw.get("/v1/grants/g1/sections/astrology/entries?requester_id=u") as r:
        assert (r.status, (await r.json())["field"]) == (400, "section")


async def test_book_needs_an_idempotency_key_header(raw: aiohttp.ClientSession) -> None:
    body = {"requester_id": "u", "slot_id": "s1"}
    async with raw.post("/v1/grants/g1/appointments", json=body) as r:
        assert (r.status, (await r.json())["field"]) == (400, "idempotency_key")
    smuggled = {**body, "idempotency_key": "k"}
    async with raw.post("/v1/grants/g1/appointments", json=smuggled) as r:
        assert (r.status, (await r.json())["field"]) == (400, "idempotency_key")


async def test_routing_errors_are_json(raw: aiohttp.ClientSession) -> None:
    async with raw.get("/v1/nothing-here") as r:
        assert (r.status, (await r.json())["code"]) == (404, "unknown_endpoint")
    async with raw.delete("/v1/health") as r:
        assert (r.status, (await r.json())["code"]) == (405, "method_not_allowed")


# --- errors over the wire ------------------------------------------------------------------------

TYPED_ERRORS: list[tuple[BackendError, int]] = [
    (InvalidRequest("code", "code must be 6 digits"), 400),
    (AccessDenied(reason=AccessDenied.REASON_NOT_OWNER), 403),
    (NotFound("no such challenge"), 404),
    (SlotTaken(), 409),
    (GrantLimitReached(5), 409),
    (CodeExpired(), 410),
    (CodeExhausted(), 410),
    (CodeWrong(3), 422),
    (RateLimited(42), 429),
]


@pytest.mark.parametrize(("error", "status"), TYPED_ERRORS, ids=lambda v: getattr(v, "code", v))
async def test_typed_errors_travel_with_their_status_and_come_back_the_same(
    raw: aiohttp.ClientSession,
    client: HttpRecordsBackend,
    fake: FakeBackend,
    error: BackendError,
    status: int,
) -> None:
    fake.error = error
    body = {"code": CODE, "requester": ME.model_dump()}
    async with raw.post("/v1/access-requests/ch1/confirm", json=body) as r:
        assert r.status == status
        assert await r.json() == error.to_payload()
        if isinstance(error, RateLimited):
            assert r.headers["Retry-After"] == "42"
    with pytest.raises(BackendError) as caught:
        await client.confirm_access("ch1", CODE, ME)
    assert type(caught.value) is type(error)
    assert caught.value.to_payload() == error.to_payload()


@pytest.mark.parametrize(
    "error", [BackendUnavailable("db down"), BackendError("boom"), RuntimeError("secret 4938")]
)
async def test_server_side_failures_become_backend_unavailable(
    raw: aiohttp.ClientSession, client: HttpRecordsBackend, fake: FakeBackend, error: Exception
) -> None:
    fake.error = error
    body = {"code": CODE, "requester": ME.model_dump()}
    async with raw.post("/v1/access-requests/ch1/confirm", json=body) as r:
        assert r.status >= 500
        payload = await r.json()
        assert "4938" not in str(payload)
    with pytest.raises(BackendUnavailable):
        await client.confirm_access("ch1", CODE, ME)


async def test_unknown_ids_are_not_found(client: HttpRecordsBackend) -> None:
    with pytest.raises(NotFound):
        await client.get_document("g1", "u", "e-unknown")
    with pytest.raises(NotFound):
        await client.find_patient(POLICY, date(1990, 5, 2))


# --- values over the wire ------------------------------------------------------------------------


async def test_models_round_trip_exactly(client: HttpRecordsBackend, fake: FakeBackend) -> None:
    assert await client.find_patient(POLICY, PATIENT.birth_date) == PATIENT
    assert await client.get_grant("g1", ME) == GRANT
    # Reads identify the requester by id only: a name must not travel in a URL.
    assert fake.calls[-1] == ("get_grant", ("g1", Requester(id=ME.id, display_name="")), {})


async def test_query_arguments_arrive_as_sent(
    client: HttpRecordsBackend, fake: FakeBackend
) -> None:
    since, until = date(2025, 1, 1), date(2025, 12, 31)
    page = await client.list_entries(
        "g1", "u", Section.LABS, since=since, until=until, cursor="c:8", limit=3
    )
    assert page == EntryPage(items=[], next_cursor=None, total=0)
    _, args, kwargs = fake.calls[-1]
    assert args == ("g1", "u", Section.LABS)
    assert kwargs == {"since": since, "until": until, "cursor": "c:8", "limit": 3}


async def test_odd_ids_survive_the_path(client: HttpRecordsBackend) -> None:
    document = await client.get_document("g/1", "u", ODD_ID)
    assert document.entry_id == ODD_ID


async def test_pdf_comes_back_as_bytes(
    client: HttpRecordsBackend, raw: aiohttp.ClientSession
) -> None:
    assert await client.get_document_pdf("g1", "u", "e1") == PDF
    async with raw.get("/v1/grants/g1/documents/e1/pdf?requester_id=u") as r:
        assert r.content_type == "application/pdf"


async def test_closed_client_refuses_calls(base_url: str) -> None:
    backend = HttpRecordsBackend(base_url, TOKEN)
    assert isinstance(backend, RecordsBackend)
    await backend.health()
    await backend.aclose()
    await backend.aclose()  # twice is fine
    with pytest.raises(RuntimeError):
        await backend.health()


# --- logging -------------------------------------------------------------------------------------


async def test_nothing_personal_is_logged(
    client: HttpRecordsBackend, fake: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.error = CodeWrong(2)
    await client.find_patient(POLICY, PATIENT.birth_date)
    await client.get_grant("g1", ME)
    with pytest.raises(CodeWrong):
        await client.confirm_access("ch1", CODE, ME)
    fake.error = RuntimeError(f"crash with {POLICY}")
    with pytest.raises(BackendUnavailable):
        await client.confirm_access("ch1", CODE, ME)
    assert any(r.msg == "records_api.request" for r in caplog.records)
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'event_fields', '')}" for r in caplog.records)
    for secret in (POLICY, CODE, ME.display_name, "1990-05-01", TOKEN, "Анна"):
        assert secret not in logged


def test_an_empty_service_token_is_refused() -> None:
    from backend_client.records_api import create_records_api_app

    with pytest.raises(ValueError, match="service_token"):
        create_records_api_app(cast(RecordsBackend, FakeBackend()), service_token="")


async def test_datetimes_keep_their_instant(client: HttpRecordsBackend, fake: FakeBackend) -> None:
    moscow = timezone(timedelta(hours=3))
    expires = datetime(2026, 3, 1, 15, 0, 0, 7, tzinfo=moscow)
    challenge = await client.request_access(
        POLICY, PATIENT.birth_date, ME, Relation.RELATIVE, Scope.APPOINTMENTS, expires
    )
    assert fake.calls[-1] == (
        "request_access",
        (POLICY, PATIENT.birth_date, ME, Relation.RELATIVE, Scope.APPOINTMENTS, expires),
        {},
    )
    assert challenge.access_expires_at == expires
