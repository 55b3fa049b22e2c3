"""One `FlowContext` per update for the neutral flows (`bot.flows`), made from what the
earlier middlewares put in the data: handlers take `flow_ctx` instead of threading the user,
session, clock, backend, keys and locale through their signatures by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n

from bot.flows.context import FlowContext
from bot.notices import OtherChats


class FlowContextMiddleware(BaseMiddleware):
    """Runs inside the locale middleware, so the context speaks the update's language."""

    def __init__(self, i18n: I18n) -> None:
        self._i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user, session = data.get("user"), data.get("session")
        if user is not None and session is not None:  # membership updates have no session
            i18n = self._i18n
            data["flow_ctx"] = FlowContext(
                user=user,
                session=session,
                clock=data["clock"],
                locale=i18n.current_locale,
                locales=i18n.available_locales,
                translate=lambda msgid, locale: i18n.gettext(msgid, locale=locale),
                backend=data["backend"],
                keys=data["keys"],
                settings=data["settings"],
                plural=lambda one, many, n, locale: i18n.gettext(one, many, n, locale=locale),
                first_name=getattr(data.get("event_from_user"), "first_name", "") or "",
                # The owner's alerts reach them on Telegram or on MAX (when this process has it).
                tell=OtherChats(data.get("bot"), data.get("max_bot")).tell,
            )
        return await handler(event, data)
