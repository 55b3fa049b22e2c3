"""One place that turns failures into honest, localized answers. Users never see exception text."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from backend_client.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    NotFound,
    RateLimited,
    SlotTaken,
)
from bot.logs import log_event

router = Router(name=__name__)
logger = logging.getLogger(__name__)


def backend_error_text(error: BackendError) -> str:
    if isinstance(error, BackendUnavailable):
        return _(
            "The medical records service is temporarily unavailable. Please try again in a few minutes."
        )
    if isinstance(error, AccessDenied):
        return _("You no longer have access to this. Open the menu to see what you can do.")
    if isinstance(error, NotFound):
        return _("This was not found. It may have been removed or changed.")
    if isinstance(error, SlotTaken):
        return _("That time was just taken. Please choose another one.")
    if isinstance(error, RateLimited):
        minutes = max(1, (error.retry_after + 59) // 60)
        return _("Too many attempts. Please try again in {minutes} min.").format(minutes=minutes)
    return _("The request could not be completed. Please try again.")


async def _tell(event: ErrorEvent, text: str) -> None:
    update = event.update
    if update.callback_query is not None:
        # A callback must always be answered, or the button spins forever.
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.answer(text)


@router.error(ExceptionTypeFilter(BackendError))
async def on_backend_error(event: ErrorEvent) -> bool:
    error = event.exception
    assert isinstance(error, BackendError)
    log_event(
        logger, "backend.error", logging.WARNING, code=error.code, update_id=event.update.update_id
    )
    await _tell(event, backend_error_text(error))
    return True


@router.error()
async def on_unexpected_error(event: ErrorEvent) -> bool:
    log_event(
        logger,
        "handler.crashed",
        logging.ERROR,
        error=type(event.exception).__name__,
        update_id=event.update.update_id,
    )
    await _tell(event, _("Something went wrong on our side. Please try again, or send /start."))
    return True
