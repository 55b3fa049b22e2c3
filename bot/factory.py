"""Composition root: everything the bot runs is built here, for production and tests alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis

from backend_client.protocol import RecordsBackend
from bot.backend_budget import install_interaction_budget
from bot.clock import Clock
from bot.db.engine import SessionMaker
from bot.flows.screens import N_
from bot.i18n import UserLocaleMiddleware, create_i18n
from bot.isolation import LeasedRedisEventIsolation
from bot.keys import AppKeys
from bot.middlewares.db import DbSessionMiddleware
from bot.middlewares.flow_context import FlowContextMiddleware
from bot.middlewares.logging import UpdateLogMiddleware
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.services.rate_limit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bot.settings import Settings
from bot.telegram_retry import TelegramRetryMiddleware
from handlers import setup_routers
from handlers.errors import StorageOutageLog


class MissingTokenError(RuntimeError):
    pass


def create_bot(settings: Settings, token: str | None = None, *, clock: Clock) -> Bot:
    """A Bot talking to Telegram, a self-hosted Bot API server, or the offline emulator.

    Its calls made while an update is handled are retried on 429 / 5xx within
    `TELEGRAM_RETRY_BUDGET_SECONDS` (bot/telegram_retry.py); the worker's sends are not (the
    delivery loop paces and retries those), so one Bot serves both."""
    secret = token or (
        settings.telegram.bot_token.get_secret_value() if settings.telegram.bot_token else None
    )
    if not secret:
        raise MissingTokenError("configuration error: BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.telegram_api_url))
    session.middleware(
        TelegramRetryMiddleware(
            clock, budget_seconds=settings.telegram.telegram_retry_budget_seconds
        )
    )
    return Bot(
        token=secret,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


@dataclass(frozen=True, slots=True)
class FsmBackends:
    storage: BaseStorage
    isolation: BaseEventIsolation
    limiter: RateLimiter


def create_fsm_backends(settings: Settings, redis: Redis | None, clock: Clock) -> FsmBackends:
    burst = max(1, int(settings.app.throttle_per_second * 2))
    if redis is None:
        return FsmBackends(
            storage=MemoryStorage(),
            isolation=SimpleEventIsolation(),
            limiter=MemoryRateLimiter(
                rate=settings.app.throttle_per_second, burst=burst, clock=clock.monotonic
            ),
        )
    key_builder = DefaultKeyBuilder(prefix=f"{settings.redis.redis_prefix}:fsm", with_bot_id=True)
    ttl = settings.redis.fsm_ttl_seconds
    storage = RedisStorage(redis, key_builder=key_builder, state_ttl=ttl, data_ttl=ttl)
    # Two updates of one user never run at once across replicas: a Redis lock per chat/user,
    # a short lease renewed while the handler runs, so a dead replica frees its user quickly.
    isolation = LeasedRedisEventIsolation(redis, key_builder=key_builder)
    limiter = RedisRateLimiter(
        redis, settings.redis.redis_prefix, per_second=burst, clock=lambda: clock().timestamp()
    )
    return FsmBackends(storage=storage, isolation=isolation, limiter=limiter)


def create_dispatcher(
    settings: Settings,
    backend: RecordsBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    *,
    clock: Clock,
    redis: Redis | None = None,
    i18n: I18n | None = None,
    **workflow_data: Any,
) -> Dispatcher:
    """The Dispatcher with every router and middleware; app-wide objects as workflow data."""
    backends = create_fsm_backends(settings, redis, clock)
    i18n = i18n or create_i18n(settings.app.default_locale)
    dispatcher = Dispatcher(
        storage=backends.storage,
        events_isolation=backends.isolation,
        settings=settings,
        backend=backend,
        sessionmaker=sessionmaker,
        keys=keys,
        clock=clock,
        redis=redis,
        storage_outages=StorageOutageLog(),  # one per dispatcher: its own outage lines
        **workflow_data,
    )
    # First of ours: each update's backend deadline and reply retries cover all that follows.
    install_interaction_budget(dispatcher, clock, settings.backend.backend_budget_seconds)
    # Outer middlewares on the update run in this order, after aiogram's own user context
    # and FSM (which takes the per-user isolation lock).
    dispatcher.update.outer_middleware(UpdateLogMiddleware(clock))
    dispatcher.update.outer_middleware(ThrottlingMiddleware(backends.limiter, i18n, clock))
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessionmaker, clock))
    locale_middleware = UserLocaleMiddleware(i18n)
    dispatcher.update.outer_middleware(locale_middleware)
    dispatcher.update.outer_middleware(FlowContextMiddleware(i18n))
    # aiogram's ErrorsMiddleware is the outermost one, so error handlers run outside the
    # gettext context set above; they answer the user too, in the same language.
    dispatcher.errors.outer_middleware(locale_middleware)
    dispatcher.include_router(setup_routers())
    return dispatcher


BOT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Main menu")),
    ("help", N_("What the bot can do")),
    ("cancel", N_("Cancel the current action")),
    ("language", N_("Change language")),
    ("records", N_("Medical record")),
    ("people", N_("My people and linking policies")),
    ("access", N_("Who has access to my card")),
    ("notifications", N_("Notification settings")),
    ("privacy", N_("My data and consent")),
)


async def set_bot_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in every language; Telegram picks by the user's app language."""
    for locale in i18n.available_locales:
        items = [
            BotCommand(command=command, description=i18n.gettext(text, locale=locale))
            for command, text in BOT_COMMANDS
        ]
        await bot.set_my_commands(items, scope=BotCommandScopeDefault(), language_code=locale)
        if locale == i18n.default_locale:
            await bot.set_my_commands(items, scope=BotCommandScopeDefault())
