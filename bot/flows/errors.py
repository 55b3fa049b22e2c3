"""Failures as honest, localized words, whatever messenger says them (users never see an
exception's text)."""

from __future__ import annotations

from collections.abc import Callable

from backend_client.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    NotFound,
    RateLimited,
    SlotTaken,
)

Gettext = Callable[[str], str]


def backend_error_text(_: Gettext, error: BackendError) -> str:
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


def storage_outage_text(_: Gettext) -> str:
    return _("⚠️ A technical problem on our side: this was not done. Please try again in a minute.")


def unexpected_error_text(_: Gettext) -> str:
    return _("Something went wrong on our side. Please try again, or send /start.")
