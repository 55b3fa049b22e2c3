"""The Records API server and its client, against a small fake backend: errors mapped both
ways over the wire, values that round-trip exactly (dates, odd ids in the path, PDFs), a closed
client, and nothing personal in the logs."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import cast

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
from backend_client.models import EntryPage, Relation, Requester, Scope, Section
from backend_client.protocol import RecordsBackend
from tests.backend.http_api_support import (
    CODE,
    GRANT,
    ME,
    ODD_ID,
    PATIENT,
    PDF,
    POLICY,
    TOKEN,
    FakeBackend,
    base_url,
    client,
    fake,
    raw,
)

__all__ = ["base_url", "client", "fake", "raw"]


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
