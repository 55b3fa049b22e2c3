"""The running application: every app-wide object, opened and closed in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client.protocol import RecordsBackend
from bot.backend import open_backend
from bot.clock import Clock, SystemClock
from bot.db.engine import SessionMaker, create_engine, create_sessionmaker
from bot.factory import create_bot, create_dispatcher
from bot.i18n import create_i18n
from bot.keys import AppKeys, load_keys
from bot.logs import configure_pseudonyms
from bot.settings import Settings


@dataclass(slots=True)
class App:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: SessionMaker
    backend: RecordsBackend
    keys: AppKeys
    i18n: I18n
    redis: Redis | None
    bot: Bot
    dispatcher: Dispatcher


REDIS_SOCKET_TIMEOUT_SECONDS = 2.0


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    backend: RecordsBackend | None = None,
    token: str | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[App]:
    """Open everything the bot needs; `backend` may be given (tests share one sandbox), and
    `clock` (tests freeze time; everything here reads this one clock)."""
    clock = clock or SystemClock()
    keys = load_keys(settings)
    configure_pseudonyms(keys.pseudonym)
    engine = create_engine(
        settings.database.database_url, timeout_seconds=settings.database.database_timeout_seconds
    )
    redis = (
        # A stalled Redis ends in an error after a moment, never a hung update or worker.
        Redis.from_url(
            settings.redis.redis_url,
            socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        )
        if settings.redis.redis_url
        else None
    )
    own_backend = backend is None
    the_backend = backend if backend is not None else await open_backend(settings, clock)
    bot = create_bot(settings, token=token, clock=clock)
    try:
        sessionmaker = create_sessionmaker(engine)
        i18n = create_i18n(settings.app.default_locale)
        dispatcher = create_dispatcher(
            settings, the_backend, sessionmaker, keys, clock=clock, redis=redis, i18n=i18n
        )
        yield App(
            settings, clock, engine, sessionmaker, the_backend, keys, i18n, redis, bot, dispatcher
        )
    finally:
        await bot.session.close()
        if own_backend:
            await the_backend.aclose()
        if redis is not None:
            await redis.aclose()
        await engine.dispose()
