"""The webhook server without its update ledger (Redis not answering): updates are refused with 503
so Telegram keeps them, the chat is told now and then (not once per redelivery), a notice that
cannot be sent does not count, and everything is handled once the ledger is back."""

from __future__ import annotations

from typing import Any, cast

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import App
from bot.clock import FrozenClock
from bot.update_ledger import Claim, LedgerUnavailable, UpdateLedger
from bot.webhook import WEBHOOK_HANDLER
from tests.unit.webhook_support import (
    FlakySession,
    Probe,
    app,
    backend,
    client,
    post_update,
    probe,
    session,
    web_app,
    webhook_settings,
)

# The fixtures these tests use, with those they depend on.
__all__ = [
    "app",
    "backend",
    "client",
    "probe",
    "session",
    "web_app",
    "webhook_settings",
]


class LedgerAway(UpdateLedger):
    """Redis not answering: every claim fails as the Redis ledger's does then."""

    async def _claim(self, key: str, token: str) -> Claim:
        raise LedgerUnavailable("ConnectionError")

    async def _renew(self, key: str, token: str) -> bool:
        raise LedgerUnavailable("ConnectionError")

    async def _finish(self, key: str, token: str) -> None:
        raise LedgerUnavailable("ConnectionError")

    async def _release(self, key: str, token: str) -> None:
        raise LedgerUnavailable("ConnectionError")


async def test_without_the_ledger_the_update_is_kept_and_the_chat_told_once_in_a_while(
    client: TestClient[Any, Any],
    web_app: web.Application,
    app: App,
    probe: Probe,
    session: FlakySession,
) -> None:
    handler = web_app[WEBHOOK_HANDLER]
    real_ledger = handler.ledger
    handler.ledger = LedgerAway()
    # Not handled (it could run twice without the ledger): 503, so Telegram keeps it ...
    assert await post_update(client, 21, "/reply") == 503
    assert await post_update(client, 21, "/reply") == 503
    assert await post_update(client, 22, "/reply") == 503
    assert probe.seen == []
    # ... and the user hears that it is kept, once, not once per redelivery.
    notices = session.texts()
    assert len(notices) == 1 and notices[0].startswith("⚠️ Технические неполадки")
    assert "повторять не нужно" in notices[0]
    cast(FrozenClock, app.clock).advance(seconds=31)
    assert await post_update(client, 22, "/reply") == 503
    assert len(session.texts()) == 2  # a long outage: told again now and then

    # Redis is back: Telegram's redelivery is handled, and the answer comes after all.
    handler.ledger = real_ledger
    assert await post_update(client, 21, "/reply") == 200
    assert await post_update(client, 22, "/reply") == 200
    assert session.texts()[2:] == ["pong", "pong"]

    # A new outage soon after is news to a chat that was served meanwhile: told at once.
    handler.ledger = LedgerAway()
    assert await post_update(client, 24, "/reply") == 503
    assert len(session.texts()) == 5 and session.texts()[4].startswith("⚠️")


async def test_a_notice_that_cannot_be_sent_does_not_change_the_answer(
    client: TestClient[Any, Any], web_app: web.Application, session: FlakySession
) -> None:
    web_app[WEBHOOK_HANDLER].ledger = LedgerAway()
    session.down = True  # Telegram 500s the notice too
    assert await post_update(client, 23, "/reply") == 503
    session.down = False
    assert await post_update(client, 23, "/reply") == 503
    assert len(session.texts()) == 1  # the failed notice did not count as told
