"""Texts about access to a card, channel-neutral: used by the flows and, through thin
wrappers in `handlers/access_texts.py`, by the handlers that are not flows yet."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

from babel.dates import format_date

from backend_client.models import Scope
from bot.services.appointments.clock import MOSCOW
from bot.services.people import AccessRefused

Gettext = Callable[[str], str]


def esc(value: str) -> str:
    return html.escape(value, quote=False)


def format_day(moment: datetime, locale: str) -> str:
    return format_date(moment.astimezone(MOSCOW).date(), format="d MMMM y", locale=locale)


def until_text(_: Gettext, locale: str, expires_at: datetime | None) -> str:
    if expires_at is None:
        return _("no end date")
    return _("until {date}").format(date=format_day(expires_at, locale))


def scope_text(_: Gettext, scope: Scope) -> str:
    if scope is Scope.RECORDS:
        return _("appointments and the medical record")
    return _("appointments only")


def refusal_text(_: Gettext, error: AccessRefused) -> str:
    if error.reason == AccessRefused.EXPIRED:
        return _("The access to this card has expired. You can link the policy again.")
    if error.reason == AccessRefused.REVOKED:
        return _("The access to this card was revoked or has ended. It is no longer in My people.")
    if error.reason == AccessRefused.SCOPE:
        return _("Your access to this card does not include this.")
    if error.reason == AccessRefused.NO_OWN_CARD:
        return _("First link your own policy: My people → My own policy.")
    return _("This person is not in your list. Open My people.")
