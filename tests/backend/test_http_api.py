"""The Records API server and its client, against a small fake backend: authentication and
input checking. Error mapping both ways, values, PDFs, path quoting and what gets logged are in
test_http_api_wire.py; the fake backend is in http_api_support.py."""

from __future__ import annotations

import aiohttp
import pytest

from backend_client.errors import BackendUnavailable
from backend_client.http import HttpRecordsBackend
from tests.backend.http_api_support import (
    CODE,
    POLICY,
    TOKEN,
    FakeBackend,
    base_url,
    client,
    fake,
    raw,
)

__all__ = ["base_url", "client", "fake", "raw"]


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
