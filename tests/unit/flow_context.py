"""A flow's per-update context for tests that call flows directly: English msgids as they
are (no catalog), English plurals, the test's clock and backend."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.clock import Clock
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
