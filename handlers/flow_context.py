"""The neutral flows' per-update context, from what Telegram's middlewares put in the data."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import User
from bot.flows.context import FlowContext


def flow_context(user: User, session: AsyncSession, clock: Clock, i18n: I18n) -> FlowContext:
    return FlowContext(
        user=user,
        session=session,
        clock=clock,
        locale=i18n.current_locale,
        locales=i18n.available_locales,
        translate=lambda msgid, locale: i18n.gettext(msgid, locale=locale),
    )
