from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser

from bot.clock import Clock
from bot.db.engine import SessionMaker
from bot.services.users import find_user, get_or_create_user


def is_membership_update(event: TelegramObject) -> bool:
    """Telegram telling the bot that a user blocked or unblocked it (or that it was added to
    or removed from a group): not the user writing to the bot."""
    return isinstance(event, Update) and event.my_chat_member is not None


class DbSessionMiddleware(BaseMiddleware):
    """One session per update, committed when the handler returns, rolled back on error."""

    def __init__(self, sessionmaker: SessionMaker, clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self._sessionmaker() as session:
            data["session"] = session
            tg_user: TgUser | None = data.get("event_from_user")
            if tg_user is not None and not tg_user.is_bot and is_membership_update(event):
                # Read only: a block must not count as the user coming back (which clears
                # blocked_at), and someone the bot never saw gets no row from it.
                known = await find_user(session, tg_user.id)
                if known is not None:
                    data["user"] = known
            elif tg_user is not None and not tg_user.is_bot:
                data["user"] = await get_or_create_user(session, tg_user.id, self._clock())
                # Commit the bookkeeping write now: on SQLite a write transaction left open
                # through a slow handler (a backend call) would block every other user.
                await session.commit()
            result = await handler(event, data)
            await session.commit()
            return result
