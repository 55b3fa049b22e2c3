"""A flow's per-update context for tests that call flows directly: English msgids as they
are (no catalog), English plurals, the test's clock and backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.flows.context import FlowContext
from bot.keys import AppKeys
from bot.settings import Settings


def msgid_as_is(msgid: str, locale: str) -> str:
    return msgid


def english_plural(singular: str, plural: str, n: int, locale: str) -> str:
    return singular if n == 1 else plural


def english_context(
    user: User,
    session: AsyncSession | Any,
    clock: Clock,
    *,
    backend: RecordsBackend | None = None,
    keys: AppKeys | None = None,
    settings: Settings | None = None,
    first_name: str = "",
    locale: str = "en",
    translate: Any = msgid_as_is,
) -> FlowContext:
    """Parts a flow does not use may be left out (None: a flow that reads one fails loudly)."""
    return FlowContext(
        user=user,
        session=cast(AsyncSession, session),
        clock=clock,
        locale=locale,
        locales=("en", "ru"),
        translate=translate,
        backend=cast(RecordsBackend, backend),
        keys=cast(AppKeys, keys),
        settings=cast(Settings, settings),
        plural=english_plural,
        first_name=first_name,
    )


class DictMemory:
    """A conversation's memory as FSMContext keeps it, in a dict."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.state: str | None = None

    async def get_state(self) -> str | None:
        return self.state

    async def set_state(self, state: str | None = None) -> None:
        self.state = state

    async def get_data(self) -> dict[str, Any]:
        return dict(self.data)

    async def update_data(
        self, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        self.data.update(data or {}, **kwargs)
        return dict(self.data)

    async def clear(self) -> None:
        self.data.clear()
        self.state = None


ContextOf = Callable[[int], Awaitable[FlowContext]]


@pytest.fixture
async def context_of(
    sessionmaker: SessionMaker,
    clock: Clock,
    backend: RecordsBackend,
    keys: AppKeys,
    settings: Settings,
) -> AsyncIterator[ContextOf]:
    """The context of the bot's user with this Telegram id (linked through the bot first),
    on one session for the test."""
    async with sessionmaker() as session:

        async def make(telegram_id: int) -> FlowContext:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            assert user is not None
            return english_context(
                user, session, clock, backend=backend, keys=keys, settings=settings
            )

        yield make
