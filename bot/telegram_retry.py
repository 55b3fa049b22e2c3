"""Replies that get through: an interactive Bot API call is repeated on a 429 or a 5xx.

`TelegramRetryMiddleware` sits on the Bot's client session (`create_bot` registers it) and
retries a call made while an update is being handled (`interactive_calls()`, opened per update
and per error by `bot.backend_budget.InteractionMiddleware`):

* `TelegramRetryAfter` (429): never delivered; waits `retry_after` (plus a little jitter) and
  sends again, for any method;
* `TelegramServerError` (5xx): Telegram did not process the request (it answers 5xx when its
  own backend failed), so it is repeated, sends included. In the rare case a 5xx came after
  the message was stored the user sees a reply twice; a reply never seen costs more;
* `TelegramNetworkError`: repeated when the request never left (no connection could be made),
  and for methods that change nothing new when repeated (edits, callback answers, reads); a
  send whose answer was lost on the way back (a timeout, a dropped connection) is not repeated,
  because Telegram most likely delivered it.

Every repeat happens within one budget per call (5 s by default, from the first attempt): a
pause that would end past it is not taken, the error is raised at once and the error handler
tells the user (`handlers/errors.py`). Pauses grow (0.25 s, 0.5 s, 1 s, ...) with jitter so
replicas that failed together do not come back together.

Outside an update (the notification worker, start-up calls) a call is made once: the delivery
loop paces and retries notifications itself (`bot/notify_telegram.py`, `DeliveryLoop`), and
sleeping here would hide a 429 from its shared rate gate.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramType
from aiohttp import ClientConnectorError

from bot.clock import Clock
from bot.logs import log_event

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)

DEFAULT_BUDGET_SECONDS = 5.0
"""How long one interactive call may take with its repeats, from its first attempt."""
FIRST_PAUSE_SECONDS = 0.25
"""The pause after the first 5xx / network error; doubled after each further one."""
LONGEST_PAUSE_SECONDS = 2.0
RETRY_AFTER_JITTER_SECONDS = 0.25
"""Added to Telegram's `retry_after` (whole seconds), so chats held together spread out."""

DELIVERY_ERRORS: tuple[type[TelegramAPIError], ...] = (
    TelegramRetryAfter,
    TelegramServerError,
    TelegramNetworkError,
)
"""The errors that mean "Telegram did not take it now", as opposed to "it never will"."""

_NEW_CONTENT_PREFIXES = ("send", "copy", "forward")
"""Methods that post something new: a repeat after an unknown outcome could post it twice."""

_interactive: ContextVar[bool] = ContextVar("telegram_interactive", default=False)

Sleep = Callable[[float], Awaitable[None]]


@contextmanager
def interactive_calls() -> Iterator[None]:
    """Bot API calls inside the block answer a person waiting in the chat: retry them."""
    token = _interactive.set(True)
    try:
        yield
    finally:
        _interactive.reset(token)


def is_interactive() -> bool:
    return _interactive.get()


def never_sent(error: TelegramNetworkError) -> bool:
    """True when no connection to Telegram was made, so the request cannot have arrived."""
    return isinstance(error.__cause__, ClientConnectorError)


def posts_new_content(api_method: str) -> bool:
    return api_method.startswith(_NEW_CONTENT_PREFIXES)


class TelegramRetryMiddleware(BaseRequestMiddleware):
    """Retries interactive calls within `budget_seconds` (see the module docstring)."""

    def __init__(
        self,
        clock: Clock,
        *,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if budget_seconds <= 0:
            raise ValueError("budget_seconds must be > 0")
        self._clock = clock
        self._budget = budget_seconds
        self._sleep = sleep
        self._rng = rng or random.Random()  # jitter, not secrets

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not is_interactive():
            return await make_request(bot, method)
        started = self._clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await make_request(bot, method)
            except DELIVERY_ERRORS as error:
                pause = self._pause(error, method, attempt)
                spent = self._clock.monotonic() - started
                if pause is None or spent + pause > self._budget:
                    # The caller (in the end the error handler) says it once, with the outcome.
                    raise
                log_event(
                    logger,
                    "telegram.retry",
                    logging.DEBUG,
                    method=method.__api_method__,
                    error=type(error).__name__,
                    attempt=attempt,
                    pause_s=round(pause, 2),
                )
            await self._sleep(pause)

    def _pause(
        self, error: TelegramAPIError, method: TelegramMethod[Any], attempt: int
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when it must not be repeated."""
        if isinstance(error, TelegramRetryAfter):
            return error.retry_after + self._rng.uniform(0, RETRY_AFTER_JITTER_SECONDS)
        if (
            isinstance(error, TelegramNetworkError)
            and not never_sent(error)
            and posts_new_content(method.__api_method__)
        ):
            return None  # it may have been delivered: a repeat could post it twice
        backoff = min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2.0 ** (attempt - 1))
        return backoff * self._rng.uniform(0.5, 1.5)
