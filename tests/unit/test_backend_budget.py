"""One interaction's backend budget: a stalled records service is told as "temporarily
unavailable" within seconds, and the same step works when it is back.

The end-to-end test runs the production path: the sandbox served as the Records API over real
HTTP, `open_backend` building the HTTP client from settings, the real Dispatcher. A switch in
front of the API makes it accept requests and never answer them.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web
from aiohttp.test_utils import TestServer

from backend_client.errors import BackendUnavailable
from backend_client.models import Section
from backend_client.protocol import RecordsBackend
from backend_client.records_api import create_records_api_app
from backend_client.sandbox import SandboxBackend
from bot.backend import open_backend
from bot.backend_budget import BudgetedBackend, InteractionMiddleware, more_time
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.services.records.periods import Period
from bot.settings import Settings
from keyboards.records import RecListCb
from tests.conftest import sqlite_settings, unthrottled
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import FLOW_SEED, TEST_NOW, SandboxTemplates, open_sandbox
from tests.unit.policies_support import Chat, consenting_user, people_rows, persona

TOKEN = "budget-test-service-token"
UNAVAILABLE = "временно недоступ"


# --- the wrapper on its own ------------------------------------------------------------------


class Slow:
    """A backend whose calls take `seconds` (for ever by default); counts them."""

    def __init__(self, seconds: float = 3600.0, *, swallow_cancel: bool = False) -> None:
        self.seconds = seconds
        self.swallow_cancel = swallow_cancel
        self.calls = 0

    async def health(self) -> None:
        self.calls += 1
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            if not self.swallow_cancel:
                raise
            await asyncio.sleep(self.seconds)  # like aiohttp when its own timer fires too

    async def list_grants_received(self, requester_id: str) -> list[Any]:
        self.calls += 1
        return []


async def in_update(budget: float, clock: FrozenClock, step: Any) -> Any:
    """Run `step()` as a handler would: inside the interaction middleware."""

    async def handler(event: Any, data: dict[str, Any]) -> Any:
        return await step()

    return await InteractionMiddleware(clock, budget)(handler, cast(Any, None), {})


def budgeted(inner: object) -> RecordsBackend:
    return cast(RecordsBackend, BudgetedBackend(cast(RecordsBackend, inner)))


async def test_outside_an_update_calls_pass_through() -> None:
    """The worker and /readyz have their own timeouts; no deadline is invented for them."""
    slow = Slow(0.05)
    await budgeted(slow).health()
    assert slow.calls == 1


async def test_a_stalled_call_fails_at_the_deadline_and_later_calls_at_once() -> None:
    clock = FrozenClock(TEST_NOW)
    slow = Slow()
    backend = budgeted(slow)
    outcomes: list[str] = []

    async def step() -> None:
        for call in (backend.health, lambda: backend.list_grants_received("r")):
            try:
                await call()
                outcomes.append("ok")
            except BackendUnavailable:
                outcomes.append("unavailable")

    started = time.monotonic()
    await in_update(0.3, clock, step)
    assert outcomes == ["unavailable", "unavailable"]
    assert slow.calls == 1  # the second call was not even made: the budget was spent
    assert time.monotonic() - started < 2.0


async def test_a_client_that_swallows_the_cancellation_is_still_cut_off() -> None:
    clock = FrozenClock(TEST_NOW)
    slow = Slow(swallow_cancel=True)

    async def step() -> None:
        await budgeted(slow).health()

    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        await in_update(0.3, clock, step)
    assert time.monotonic() - started < 2.0


async def test_more_time_renews_the_budget_and_the_clock_decides() -> None:
    clock = FrozenClock(TEST_NOW)
    slow = Slow(0.01)
    backend = budgeted(slow)

    async def step() -> str:
        clock.advance(seconds=5)  # as if 5 s passed in the step
        try:
            await backend.health()
        except BackendUnavailable:
            more_time()  # "Preparing the PDF…" was said; the step goes on
            await backend.health()
            return "renewed"
        return "not spent"

    assert await in_update(4.0, clock, step) == "renewed"
    assert slow.calls == 1


def test_every_protocol_method_is_budgeted() -> None:
    class Everything:
        pass

    for name, member in inspect.getmembers(RecordsBackend, inspect.iscoroutinefunction):
        setattr(Everything, name, member)
    wrapped = BudgetedBackend(cast(RecordsBackend, Everything()))
    names = [n for n, _ in inspect.getmembers(RecordsBackend, inspect.iscoroutinefunction)]
    assert len(names) > 20
    for name in names:
        method = getattr(wrapped, name)
        assert method.__name__ == name and method.__qualname__.endswith("within_deadline")


# --- end to end: a stalled Records API behind the real dispatcher ----------------------------


class StallSwitch:
    """In front of the Records API: when on, requests are accepted and never answered."""

    def __init__(self) -> None:
        self.on = False
        self.stalled = 0
        self._release = asyncio.Event()

    def middleware(self) -> Any:
        @web.middleware
        async def stall(request: web.Request, handler: Any) -> web.StreamResponse:
            if self.on:
                self.stalled += 1
                await self._release.wait()  # only when the test ends
            return cast(web.StreamResponse, await handler(request))

        return stall

    def release(self) -> None:
        self._release.set()


@pytest.fixture
async def sandbox(
    sandbox_templates: SandboxTemplates, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[SandboxBackend]:
    template = sandbox_templates(seed=FLOW_SEED, now=TEST_NOW)
    async with open_sandbox(template, tmp_path, clock) as opened:
        yield opened


@pytest.fixture
def switch() -> StallSwitch:
    return StallSwitch()


@pytest.fixture
async def records_api(sandbox: SandboxBackend, switch: StallSwitch) -> AsyncIterator[str]:
    app = create_records_api_app(sandbox, service_token=TOKEN)
    app.middlewares.insert(0, switch.middleware())
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        switch.release()
        await server.close()


@pytest.fixture
def settings(clean_env: None, tmp_path: Path, records_api: str) -> Settings:
    return unthrottled(
        sqlite_settings(
            tmp_path,
            backend={
                "backend": "http",
                "backend_url": records_api,
                "backend_token": TOKEN,
                # Far longer than the budget: only the interaction's budget can cut a call here.
                "backend_timeout_seconds": 20,
            },
        )
    )


@pytest.fixture
async def backend(settings: Settings, clock: FrozenClock) -> AsyncIterator[RecordsBackend]:
    http = await open_backend(settings, clock)  # as production builds it
    try:
        yield http
    finally:
        await cast(Any, http).aclose()


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: RecordsBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock)


async def test_a_stalled_records_service_is_told_within_5_s_and_the_same_press_works_later(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
    sandbox: SandboxBackend,
    switch: StallSwitch,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    assert settings.backend.backend_budget_seconds <= 4.5
    bot, rec = bot_and_session
    user = await consenting_user(sessionmaker, 4201, "Анна")
    me = Chat(dispatcher, bot, rec, user, clock)
    await me.link_own(sandbox, await persona(sandbox, "mother"))
    person = (await people_rows(sessionmaker, 4201))[0].id
    labs = RecListCb(p=person, s=Section.LABS, f=Period.ALL, n=0).pack()

    switch.on = True
    started = time.monotonic()
    await me.press(labs)
    waited = time.monotonic() - started
    assert UNAVAILABLE in me.alerts()[-1]
    assert waited < 6.0, f"the user waited {waited:.1f} s"  # the budget is 4 s
    assert switch.stalled >= 1
    print(f"stalled records service: the lab results press answered in {waited:.2f} s")

    # A step that can do without the backend still answers, from what the bot keeps.
    started = time.monotonic()
    await me.text("/people")
    waited = time.monotonic() - started
    assert "Мои люди" in me.said() and waited < 6.0
    print(f"stalled records service: /people answered in {waited:.2f} s")

    switch.on = False
    sent_before, alerts_before = len(rec.requests), len(me.alerts())
    await me.press(labs)  # the same button, nothing before it repeated
    shown = [r for r in rec.requests[sent_before:] if "Анализы" in str(getattr(r, "text", ""))]
    assert shown, "the lab results were not shown once the service was back"
    assert len(me.alerts()) == alerts_before  # no second "unavailable"
