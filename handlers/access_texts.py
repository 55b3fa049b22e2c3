"""Texts and small helpers shared by the policies, people and access handlers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram.types import User as TgUser
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_time
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Requester, Scope
from bot.crypto import FieldCipher, requester_id_for
from bot.db.models import User
from bot.flows import access_texts as texts
from bot.keys import AppKeys
from bot.logs import log_event
from bot.services import linking
from bot.services import people as people_service
from bot.services.appointments.clock import MOSCOW
from bot.services.people import AccessRefused

logger = logging.getLogger(__name__)


def format_day(moment: datetime) -> str:
    return texts.format_day(moment, get_i18n().current_locale)


def until_text(expires_at: datetime | None) -> str:
    return texts.until_text(_, get_i18n().current_locale, expires_at)


def scope_text(scope: Scope) -> str:
    return texts.scope_text(_, scope)


def wait_text(seconds: int) -> str:
    if seconds < 120:
        return ngettext("{n} second", "{n} seconds", seconds).format(n=seconds)
    minutes = (seconds + 59) // 60
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)


def try_again_text(seconds: int, now: datetime) -> str:
    """When a refused attempt may be repeated: "in 23 minutes", or a Moscow clock time for the
    hourly and daily caps (a count of hundreds of minutes helps nobody)."""
    if seconds < 3600:
        return _("You can try again in {wait}.").format(wait=wait_text(seconds))
    moment = (now + timedelta(seconds=seconds + 59)).astimezone(MOSCOW)
    time = format_time(moment.time(), format="short", locale=get_i18n().current_locale)
    if moment.date() == now.astimezone(MOSCOW).date():
        return _("You can try again today after {time} (Moscow time).").format(time=time)
    return _("You can try again tomorrow after {time} (Moscow time).").format(time=time)


def lookup_locked_text(seconds: int, now: datetime) -> str:
    """The look-up lock-out (`backend_client.lockout`): the same words whether the policy or
    the account is capped, and whether or not a card has that policy (saying more would help
    only the person guessing)."""
    return (
        _(
            "Too many wrong birth dates were entered for this policy number or from your "
            "account, so looking cards up is paused to protect their owners."
        )
        + " "
        + try_again_text(seconds, now)
    )


def sensitive_deleted_text(kind: linking.Sensitive) -> str:
    """Said after deleting a policy number or a code that the bot did not ask for."""
    if kind is linking.Sensitive.POLICY:
        return _(
            "Message deleted: it looks like a policy number, and the bot was not asking for one "
            "here."
        )
    return _(
        "Message deleted: it looks like a one-time code, and the bot was not asking for one here."
    )


def refusal_text(error: AccessRefused) -> str:
    return texts.refusal_text(_, error)


async def requester_of(
    session: AsyncSession, keys: AppKeys, user: User, tg_user: TgUser | None, now: datetime
) -> Requester:
    """The user as the backend knows them: a keyed pseudonym and the name the SMS uses (their
    own linked card's, else their Telegram name marked as unverified)."""
    fallback = linking.unverified_requester_name(tg_user.first_name if tg_user is not None else "")
    name = await people_service.requester_name(session, FieldCipher(keys), user, fallback, now)
    return Requester(id=requester_id_for(keys, user.telegram_id), display_name=name)


async def delete_sensitive(message: Message) -> None:
    """Remove a message that carried a policy, code or phone; Telegram may refuse (too old)."""
    try:
        await message.delete()
    except TelegramAPIError as error:
        log_event(logger, "message.delete_failed", logging.INFO, error=type(error).__name__)


esc = texts.esc
