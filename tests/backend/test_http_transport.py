"""``HttpRecordsBackend`` transport: timeouts, unreachable servers, what is retried and what not.

The servers here are bare aiohttp apps that count requests, so each test sees exactly what went
over the wire."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from backend_client.errors import BackendUnavailable, SlotTaken
from backend_client.http import HttpRecordsBackend
from backend_client.models import Relation, Requester, Scope
from backend_client.protocol import RecordsBackend
from backend_client.records_api import create_records_api_app
from tests.backend.http_api_support import TOKEN, FakeBackend

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EMPTY_BATCH: dict[str, Any] = {"events": [], "cursor": None}
ME = Requester(id="tg-1", display_name="Иван П.")


class Script:
    """Answers requests from a list (one answer per request, the last repeats); counts them."""

    def __init__(self, *answers: Callable[[], Awaitable[web.StreamResponse]]) -> None:
        self.answers = answers
        self.requests: list[web.Request] = []
        self.peers: set[Any] = set()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        if request.transport is not None:
            self.peers.add(request.transport.get_extra_info("peername"))
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return await answer()


def status(code: int, body: Any = None) -> Callable[[], Awaitable[web.StreamResponse]]:
    async def answer() -> web.StreamResponse:
        return web.json_response(body if body is not None else {"code": "x"}, status=code)

    return answer


def hang(release: asyncio.Event) -> Callable[[], Awaitable[web.StreamResponse]]:
    async def answer() -> web.StreamResponse:
        await release.wait()
        return web.json_response(EMPTY_BATCH)

    return answer


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def _coroutine(handler: Handler) -> Handler:
    """aiohttp wants coroutine functions, not callable objects."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    return handle


@asynccontextmanager
async def client_for(
    routes: Mapping[tuple[str, str], Handler], **options: Any
) -> AsyncIterator[HttpRecordsBackend]:
    app = web.Application()
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, _coroutine(handler))
    async with serve(app) as url, HttpRecordsBackend(url, TOKEN, **options) as backend:
        yield backend


async def test_a_read_is_retried_after_a_transient_503() -> None:
    events = Script(status(503), status(200, EMPTY_BATCH))
    async with client_for({("GET", "/v1/events"): events}, retries=2) as backend:
        batch = await backend.read_events()
    assert batch.events == []
    assert len(events.requests) == 2


async def test_reads_give_up_after_the_retries() -> None:
    events = Script(status(502))
    async with client_for({("GET", "/v1/events"): events}, retries=2) as backend:
        with pytest.raises(BackendUnavailable):
            await backend.read_events()
    assert len(events.requests) == 3


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        (
            "POST",
            "/v1/grants/g1/appointments/a1/cancel",
            lambda b: b.cancel_appointment("g1", "u", "a1"),
        ),
        (
            "POST",
            "/v1/access-requests/ch1/confirm",
            lambda b: b.confirm_access("ch1", "123456", ME),
        ),
        (
            "POST",
            "/v1/access-requests",
            lambda b: b.request_access(
                "7700000000000018", date(1990, 1, 1), ME, Relation.SELF, Scope.RECORDS
            ),
        ),
        ("POST", "/v1/grants/g1/revoke", lambda b: b.revoke_grant("g1", ME)),
    ],
    ids=["cancel", "confirm", "request_access", "revoke"],
)
async def test_unsafe_writes_are_sent_once(
    method: str, path: str, call: Callable[[HttpRecordsBackend], Awaitable[Any]]
) -> None:
    script = Script(status(503), status(200))
    async with client_for({(method, path): script}, retries=3) as backend:
        with pytest.raises(BackendUnavailable):
            await call(backend)
    assert len(script.requests) == 1


async def test_client_errors_are_not_retried() -> None:
    events = Script(status(409, SlotTaken().to_payload()))
    async with client_for({("GET", "/v1/events"): events}, retries=2) as backend:
        with pytest.raises(SlotTaken):
            await backend.read_events()
    assert len(events.requests) == 1


async def test_a_hanging_backend_times_out_quickly() -> None:
    release = asyncio.Event()
    events = Script(hang(release))
    try:
        async with client_for(
            {("GET", "/v1/events"): events}, timeout=1.0, attempt_timeout=0.2, retries=1
        ) as backend:
            started = time.monotonic()
            with pytest.raises(BackendUnavailable):
                await backend.read_events()
            elapsed = time.monotonic() - started
    finally:
        release.set()
    assert len(events.requests) == 2  # a stalled attempt is cut, the read is tried again
    assert elapsed < 1.5


async def test_a_stalled_backend_costs_one_timeout_not_one_per_retry() -> None:
    """The old client waited `timeout` per attempt: 3 x 5 s of silence before an answer."""
    release = asyncio.Event()
    events = Script(hang(release))
    try:
        async with client_for({("GET", "/v1/events"): events}, timeout=0.5, retries=5) as backend:
            started = time.monotonic()
            with pytest.raises(BackendUnavailable, match="in time"):
                await backend.read_events()
            elapsed = time.monotonic() - started
    finally:
        release.set()
    assert len(events.requests) == 1
    assert elapsed < 1.5  # the 0.5 s budget, generously


async def test_quick_failures_are_retried_only_within_the_budget() -> None:
    events = Script(status(503))
    async with client_for({("GET", "/v1/events"): events}, timeout=0.5, retries=50) as backend:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await backend.read_events()
        elapsed = time.monotonic() - started
    # Pauses of 0.1, 0.2, 0.4 s ... fit a few attempts into 0.5 s, never fifty.
    assert 2 <= len(events.requests) <= 5
    assert elapsed < 1.5


async def test_the_budget_covers_a_write_too() -> None:
    release = asyncio.Event()
    confirm = Script(hang(release))
    try:
        async with client_for(
            {("POST", "/v1/access-requests/ch1/confirm"): confirm}, timeout=0.3, retries=2
        ) as backend:
            with pytest.raises(BackendUnavailable):
                await backend.confirm_access("ch1", "123456", ME)
    finally:
        release.set()
    assert len(confirm.requests) == 1


async def test_a_hanging_cancel_times_out_once() -> None:
    release = asyncio.Event()
    cancel = Script(hang(release))
    try:
        async with client_for(
            {("POST", "/v1/grants/g1/appointments/a1/cancel"): cancel}, timeout=0.2, retries=2
        ) as backend:
            with pytest.raises(BackendUnavailable):
                await backend.cancel_appointment("g1", "u", "a1")
    finally:
        release.set()
    assert len(cancel.requests) == 1


async def test_an_unreachable_backend_is_unavailable_quickly() -> None:
    with socket.socket() as sock:  # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    async with HttpRecordsBackend(f"http://127.0.0.1:{port}", TOKEN, timeout=1.0) as backend:
        with pytest.raises(BackendUnavailable):
            await backend.health()
    assert time.monotonic() - started < 2.0


async def test_garbage_answers_are_unavailable() -> None:
    async def html(_: web.Request) -> web.Response:
        return web.Response(text="<html>proxy error</html>", status=404, content_type="text/html")

    async def nonsense(_: web.Request) -> web.Response:
        return web.json_response({"events": "many"})

    async def html_200(_: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    routes = {
        ("GET", "/v1/health"): html,
        ("GET", "/v1/events"): nonsense,
        ("GET", "/v1/grants/g1/documents/e1/pdf"): html_200,
    }
    async with client_for(routes, retries=0) as backend:
        with pytest.raises(BackendUnavailable, match="PDF"):
            await backend.get_document_pdf("g1", "u", "e1")
        with pytest.raises(BackendUnavailable):
            await backend.health()
        with pytest.raises(BackendUnavailable, match="malformed"):
            await backend.read_events()


async def test_one_session_for_all_calls() -> None:
    events = Script(status(200, EMPTY_BATCH))
    async with client_for({("GET", "/v1/events"): events}) as backend:
        for _ in range(3):
            await backend.read_events()
        session = backend._session
    assert session is not None and session.closed
    assert len(events.peers) == 1  # one kept-alive connection


# --- idempotent booking over a lossy network -----------------------------------------------------


async def test_a_retried_booking_books_once() -> None:
    fake = FakeBackend()
    app = create_records_api_app(cast(RecordsBackend, fake), service_token=TOKEN)
    answers_lost = 0

    @web.middleware
    async def lossy(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal answers_lost
        response = await handler(request)
        if answers_lost == 0:
            answers_lost += 1
            return web.json_response({"code": "bad_gateway"}, status=502)
        return response

    app.middlewares.append(lossy)
    async with serve(app) as url, HttpRecordsBackend(url, TOKEN, retries=2) as backend:
        appointment = await backend.book("g1", "u", "s1", "key-1")
        again = await backend.book("g1", "u", "s1", "key-1")
    assert [call[0] for call in fake.calls] == ["book", "book", "book"]
    assert len(fake.bookings) == 1
    assert appointment == again
    assert {call[1][3] for call in fake.calls} == {"key-1"}


@pytest.mark.parametrize(
    ("url", "token"),
    [("ftp://x", TOKEN), ("http://x", ""), ("http://x", "two words"), ("http://x", "токен")],
)
def test_bad_configuration_fails_at_construction(url: str, token: str) -> None:
    with pytest.raises(ValueError, match=r"base_url|token"):
        HttpRecordsBackend(url, token)


@pytest.mark.parametrize(
    "options", [{"timeout": 0}, {"timeout": -1}, {"attempt_timeout": 0}, {"retries": -1}]
)
def test_bad_timeouts_fail_at_construction(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="timeouts"):
        HttpRecordsBackend("http://x", TOKEN, **options)  # type: ignore[arg-type]
