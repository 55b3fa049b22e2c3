"""One place that turns failures into honest, localized answers. Users never see exception text.

Each failed update is logged once, here, with what the user was told (`told`): `yes`, `no`
(Telegram would not take the apology either; `bot.telegram_retry` already retried it within its
budget), or `nobody` (an update without a chat to answer, such as a block).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message
from aiogram.utils.i18n import gettext as _

from backend_client.errors import (
    BackendError,
)
from bot.clock import Clock
from bot.flows import errors as failure_texts
from bot.logs import log_event
from bot.outages import DATABASE, REDIS, outage_kind
from bot.telegram_retry import DELIVERY_ERRORS

router = Router(name=__name__)
logger = logging.getLogger(__name__)


def backend_error_text(error: BackendError) -> str:
    return failure_texts.backend_error_text(_, error)


def undelivered_text() -> str:
    return _(
        "Telegram is not delivering our messages right now. Please repeat your request in a minute."
    )


async def _tell(event: ErrorEvent, text: str) -> str:
    """Say `text` to whoever sent the update; returns `yes`, `no` or `nobody`."""
    update = event.update
    try:
        if update.callback_query is not None:
            query = update.callback_query
            try:
                # A callback must always be answered, or the button spins forever.
                await query.answer(text, show_alert=True)
            except TelegramBadRequest:
                # Answered already, or too old to answer: say it in the chat instead.
                if not isinstance(query.message, Message):
                    return "no"
                await query.message.answer(text)
        elif update.message is not None:
            await update.message.answer(text)
        else:
            return "nobody"
    except TelegramAPIError:
        return "no"
    return "yes"


@router.error(ExceptionTypeFilter(*DELIVERY_ERRORS))
async def on_undelivered_reply(event: ErrorEvent) -> bool:
    """Telegram refused a reply for longer than the retry budget: say so, if it lets us."""
    error = event.exception
    assert isinstance(error, TelegramAPIError)
    told = await _tell(event, undelivered_text())
    log_event(
        logger,
        "reply.undelivered",
        logging.WARNING,
        method=error.method.__api_method__,
        error=type(error).__name__,
        update_id=event.update.update_id,
        told=told,
    )
    return True


@router.error(ExceptionTypeFilter(BackendError))
async def on_backend_error(event: ErrorEvent) -> bool:
    error = event.exception
    assert isinstance(error, BackendError)
    told = await _tell(event, backend_error_text(error))
    log_event(
        logger,
        "backend.error",
        logging.WARNING,
        code=error.code,
        update_id=event.update.update_id,
        told=told,
    )
    return True


STORAGE_OUTAGE_LOG_EVERY_SECONDS = 30.0


class StorageOutageLog:
    """One line when the bot's own storage stops answering, then one per
    `STORAGE_OUTAGE_LOG_EVERY_SECONDS` with the count of updates it failed meanwhile, not a
    line per update (a cut PostgreSQL fails every update of every user at once)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._failed: dict[str, int] = {}

    def failed(self, kind: str, error: BaseException, clock: Clock, told: str) -> None:
        self._failed[kind] = self._failed.get(kind, 0) + 1
        now = clock.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < STORAGE_OUTAGE_LOG_EVERY_SECONDS:
            return
        self._last[kind] = now
        log_event(
            logger,
            "storage.unavailable",
            logging.WARNING,
            kind=kind,
            error=type(error).__name__,
            updates=self._failed.pop(kind),
            told=told,
        )


def storage_outage_text() -> str:
    return failure_texts.storage_outage_text(_)


def _storage_outage(event: ErrorEvent) -> dict[str, str] | bool:
    kind = outage_kind(event.exception)
    return {"outage": kind} if kind in (DATABASE, REDIS) else False


@router.error(_storage_outage)
async def on_storage_outage(
    event: ErrorEvent, outage: str, clock: Clock, storage_outages: StorageOutageLog
) -> bool:
    """PostgreSQL or Redis away or stalled (their drivers' timeouts end the wait): nothing of
    the update was saved (its transaction is rolled back), so it is safe to do again."""
    told = await _tell(event, storage_outage_text())
    storage_outages.failed(outage, event.exception, clock, told)
    return True


@router.error()
async def on_unexpected_error(event: ErrorEvent) -> bool:
    told = await _tell(event, failure_texts.unexpected_error_text(_))
    log_event(
        logger,
        "handler.crashed",
        logging.ERROR,
        error=type(event.exception).__name__,
        update_id=event.update.update_id,
        told=told,
    )
    return True
