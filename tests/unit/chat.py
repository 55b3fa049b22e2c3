"""A user's side of a conversation with the real dispatcher and a recording bot."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.types import User

from tests.recording_bot import RecordingSession
from tests.updates import callback_update, text_update


class Chat:
    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, session: RecordingSession, user: User
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.session = session
        self.user = user

    async def send(self, text: str) -> list[TelegramMethod[Any]]:
        """Send a message; returns the API calls the bot made in reply."""
        before = len(self.session.requests)
        await self.dispatcher.feed_update(self.bot, text_update(text, self.user))
        return self.session.requests[before:]

    async def press(self, data: str) -> list[TelegramMethod[Any]]:
        """Press an inline button carrying `data`; returns the API calls made in reply."""
        before = len(self.session.requests)
        await self.dispatcher.feed_update(self.bot, callback_update(data, self.user))
        return self.session.requests[before:]


def texts(requests: list[TelegramMethod[Any]]) -> list[str]:
    """The texts a person sees: messages, edits and callback answers."""
    return [str(getattr(r, "text", "")) for r in requests if getattr(r, "text", None)]


def joined(requests: list[TelegramMethod[Any]]) -> str:
    return "\n".join(texts(requests))


def alerts(requests: list[TelegramMethod[Any]]) -> list[AnswerCallbackQuery]:
    return [r for r in requests if isinstance(r, AnswerCallbackQuery)]


def gated_router(dispatcher: Dispatcher) -> Router:
    """The router whose handlers need consent (where feature routers are included)."""
    for router in dispatcher.chain_tail:
        if router.name == "gated":
            return router
    raise AssertionError("no gated router in the dispatcher")


def put_first(dispatcher: Dispatcher, router: Router) -> None:
    """Include a test router ahead of the bot's own ones (the error router still applies)."""
    dispatcher.include_router(router)
    dispatcher.sub_routers.remove(router)
    dispatcher.sub_routers.insert(0, router)
