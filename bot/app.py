"""The running application: every app-wide object, opened and closed in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from maxapi import Bot as MaxBot
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
    # Telegram's side, absent when this deployment answers MAX only (CHANNEL=max).
    telegram_bot: Bot | None
    telegram_dispatcher: Dispatcher | None
    # MAX's bot (maxapi), present when MAX_TOKEN is set: the MAX front end and the worker's
    # notifications to people who use MAX.
    max_bot: MaxBot | None = None

    @property
    def bot(self) -> Bot:
        if self.telegram_bot is None:
            raise RuntimeError("Telegram is not configured here (CHANNEL=max)")
        return self.telegram_bot

    @property
    def dispatcher(self) -> Dispatcher:
        if self.telegram_dispatcher is None:
            raise RuntimeError("Telegram is not configured here (CHANNEL=max)")
        return self.telegram_dispatcher


REDIS_SOCKET_TIMEOUT_SECONDS = 2.0


def create_max_bot(settings: Settings, api_url: str | None = None) -> MaxBot | None:
    """MAX's bot when MAX_TOKEN is set: maxapi's Bot, pointed at MAX_API_URL (its own URL is
    hard-coded; `set_api_url` is the supported override)."""
    token = settings.max.max_token
    if token is None:
        return None
    bot = MaxBot(token.get_secret_value())
    bot.set_api_url(api_url or settings.max.max_api_url)
    return bot


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    backend: RecordsBackend | None = None,
    token: str | None = None,
    clock: Clock | None = None,
    telegram: bool | None = None,
    max_api_url: str | None = None,
) -> AsyncIterator[App]:
    """Open everything the bot needs; `backend` may be given (tests share one sandbox), and
    `clock` (tests freeze time; everything here reads this one clock). Telegram's bot is made
    unless `telegram` is False (default: unless CHANNEL=max); MAX's when MAX_TOKEN is set
    (`max_api_url` points it elsewhere, e.g. at the offline emulator)."""
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
    with_telegram = settings.max.channel.telegram if telegram is None else telegram
    bot = create_bot(settings, token=token, clock=clock) if with_telegram else None
    max_bot = create_max_bot(settings, max_api_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        i18n = create_i18n(settings.app.default_locale)
        dispatcher = (
            create_dispatcher(
                settings,
                the_backend,
                sessionmaker,
                keys,
                clock=clock,
                redis=redis,
                i18n=i18n,
                max_bot=max_bot,  # the owner's alerts to people on MAX
            )
            if bot is not None
            else None
        )
        yield App(
            settings,
            clock,
            engine,
            sessionmaker,
            the_backend,
            keys,
            i18n,
            redis,
            bot,
            dispatcher,
            max_bot,
        )
    finally:
        if bot is not None:
            await bot.session.close()
        if max_bot is not None:
            await max_bot.close_session()
        if own_backend:
            await the_backend.aclose()
        if redis is not None:
            await redis.aclose()
        await engine.dispose()
