"""One interaction's backend budget: a stalled backend is told as unavailable within seconds.

Each update gets a deadline (`InteractionMiddleware`, from the moment it is handled, after its
per-user lock): every backend call the handlers make through `BudgetedBackend` may take only
what is left of it, and once it is spent a call fails at once with `BackendUnavailable`, which
the handlers already turn into "temporarily unavailable" (`handlers/errors.py`). However many
calls a step makes (a grant check, then the page), the user hears something within the budget
and, because nothing of the step was kept, can press the same button again later.

The same middleware opens `bot.telegram_retry.interactive_calls()`, so the replies of the
update, and of its error handler, are retried on Telegram's 429 / 5xx.

Outside an update (the worker, /readyz) there is no deadline: calls pass through unchanged.
A step that legitimately needs longer (many documents) asks for `more_time()` after telling
the user it is working on it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject

from backend_client.errors import BackendUnavailable
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.logs import log_event
from bot.telegram_retry import interactive_calls

logger = logging.getLogger(__name__)

DEFAULT_BUDGET_SECONDS = 4.0
"""Backend time of one update: under 5 s leaves room to tell the user before 5 s pass."""


class Deadline:
    """When the current update's backend time runs out, on the injected monotonic clock."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._ends = clock.monotonic() + seconds

    def remaining(self) -> float:
        return self._ends - self._clock.monotonic()

    def renew(self) -> None:
        self._ends = self._clock.monotonic() + self._seconds


_deadline: ContextVar[Deadline | None] = ContextVar("backend_deadline", default=None)


def more_time() -> None:
    """A full budget again for the current update, from now (no-op outside an update).

    Only after the user was told the bot is working on it ("Preparing the PDF…"): the rule is
    no silence longer than the budget, not a cap on useful work."""
    deadline = _deadline.get()
    if deadline is not None:
        deadline.renew()


@contextmanager
def interaction_budget(clock: Clock, seconds: float) -> Iterator[None]:
    """One interaction's backend deadline, for the block (a channel without aiogram's
    middlewares opens it around each update with this)."""
    token = _deadline.set(Deadline(clock, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


class BudgetedBackend:
    """A `RecordsBackend` whose calls share the current update's deadline.

    Every coroutine method of the wrapped backend is wrapped (the protocol has dozens, and a
    new one is covered without a change here); other attributes pass through."""

    def __init__(self, inner: RecordsBackend) -> None:
        self._inner = inner

    @property
    def inner(self) -> RecordsBackend:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(target):
            return target

        async def within_deadline(*args: Any, **kwargs: Any) -> Any:
            deadline = _deadline.get()
            if deadline is None:
                return await target(*args, **kwargs)
            remaining = deadline.remaining()
            if remaining <= 0:
                raise _spent(name)
            return await _until(target(*args, **kwargs), remaining, name)

        within_deadline.__name__ = name
        return within_deadline


async def _until(call: Awaitable[Any], seconds: float, op: str) -> Any:
    """The call's result if it comes within `seconds`; else it is cancelled and abandoned.

    Waiting for a task rather than cancelling our own: a client may swallow a cancellation
    (aiohttp does when its own timer fires at the same moment), and the user must not wait
    for that client's next retry."""
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(_forget)
    raise _spent(op)


def _forget(task: asyncio.Future[Any]) -> None:
    """An abandoned call's outcome is nobody's any more (no "exception never retrieved")."""
    if not task.cancelled():
        task.exception()


def _spent(op: str) -> BackendUnavailable:
    log_event(logger, "backend.deadline", logging.WARNING, op=op)
    return BackendUnavailable(f"{op}: the interaction's backend budget is spent")


class InteractionMiddleware(BaseMiddleware):
    """Opens, for one update (or one error), the backend deadline and the reply retries."""

    def __init__(self, clock: Clock, budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> None:
        if budget_seconds <= 0:
            raise ValueError("budget_seconds must be > 0")
        self._clock = clock
        self._budget = budget_seconds

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with interaction_budget(self._clock, self._budget), interactive_calls():
            return await handler(event, data)


def install_interaction_budget(
    dispatcher: Dispatcher, clock: Clock, budget_seconds: float = DEFAULT_BUDGET_SECONDS
) -> None:
    """Wrap the dispatcher's `backend` and open the budget around every update and error.

    Call it right after building the Dispatcher, before the other outer middlewares, so the
    budget and the reply retries cover them too (the throttle's answers, the DB session)."""
    backend = dispatcher["backend"]
    if not isinstance(backend, BudgetedBackend):
        dispatcher["backend"] = cast(RecordsBackend, BudgetedBackend(backend))
    middleware = InteractionMiddleware(clock, budget_seconds)
    dispatcher.update.outer_middleware(middleware)
    # aiogram's ErrorsMiddleware runs the error handlers outside the update's middlewares:
    # the apology gets its own budget and its own retries.
    dispatcher.errors.outer_middleware(middleware)
