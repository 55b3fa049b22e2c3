"""One MAX update, from the person's ids to the flow's answer, with the rules the Telegram side
gets from its middlewares: one update of a person at a time (the same per-user lock), their
row in the same database (`users.channel = "max"`), their language, the conversation's memory
in the same FSM storage (keys of their own, `destiny="max"`), the interaction's backend budget,
and honest words for every failure (the transaction rolled back, nothing half-done)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.utils.i18n import I18n

from backend_client.errors import BackendError
from backend_client.protocol import RecordsBackend
from bot.backend_budget import interaction_budget
from bot.clock import Clock
from bot.db.engine import SessionMaker
from bot.db.models import MAX
from bot.flows import router
from bot.flows.context import FlowContext
from bot.flows.errors import backend_error_text, storage_outage_text, unexpected_error_text
from bot.flows.inputs import Input, Press, Text
from bot.flows.screens import Button, Placement, Screen
from bot.i18n import pick_locale
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.notices import OtherChats
from bot.outages import DATABASE, REDIS, outage_kind
from bot.services.linking import delete_when_dropped
from bot.services.rate_limit import RateLimiter
from bot.services.users import find_user, get_or_create_user, mark_blocked
from bot.settings import Settings
from max_channel.render import MaxAnswer

logger = logging.getLogger(__name__)

DESTINY = "max"  # FSM keys of MAX conversations never meet Telegram's


@dataclass(frozen=True)
class MaxParts:
    """What every MAX update needs, made once (`max_channel.dispatcher.create_max_dispatcher`)."""

    settings: Settings
    backend: RecordsBackend
    sessionmaker: SessionMaker
    keys: AppKeys
    clock: Clock
    i18n: I18n
    storage: BaseStorage
    isolation: BaseEventIsolation
    bot_id: int = 0
    # Telegram's bot when this process has it too (CHANNEL=both): alerts to owners there.
    telegram_bot: Bot | None = None
    # The flood limit per person (the Telegram side's, `bot.middlewares.throttling`), shared
    # across replicas through Redis; None: no limit (tests that act faster than a person).
    limiter: RateLimiter | None = None
    notices: RateLimiter | None = None  # "too fast" said at most once in a while


@dataclass(frozen=True)
class Sender:
    user_id: int
    chat_id: int
    locale: str | None = None  # what MAX says the person's app speaks
    first_name: str = ""


def storage_key(parts: MaxParts, sender: Sender) -> StorageKey:
    return StorageKey(
        bot_id=parts.bot_id, chat_id=sender.chat_id, user_id=sender.user_id, destiny=DESTINY
    )


async def run_turn(parts: MaxParts, sender: Sender, event: Input, answer: MaxAnswer) -> None:
    key = storage_key(parts, sender)
    i18n = parts.i18n
    locale = i18n.default_locale
    try:
        if not await _within_limit(parts, sender, event, answer):
            return
        async with parts.isolation.lock(key):
            with interaction_budget(parts.clock, parts.settings.backend.backend_budget_seconds):
                async with parts.sessionmaker() as session:
                    now = parts.clock()
                    user = await get_or_create_user(session, sender.user_id, now, channel=MAX)
                    await session.commit()  # as on Telegram: no write held through the flow
                    locale = pick_locale(
                        user.language, sender.locale, i18n.available_locales, i18n.default_locale
                    )
                    ctx = FlowContext(
                        user=user,
                        session=session,
                        clock=parts.clock,
                        locale=locale,
                        locales=i18n.available_locales,
                        translate=lambda msgid, loc: i18n.gettext(msgid, locale=loc),
                        backend=parts.backend,
                        keys=parts.keys,
                        settings=parts.settings,
                        plural=lambda one, many, n, loc: i18n.gettext(one, many, n, locale=loc),
                        first_name=sender.first_name,
                        tell=OtherChats(parts.telegram_bot, answer.bot).tell,
                    )
                    if user.has_consent:
                        label = ctx.gettext(router.MAIN_MENU.label)
                        answer.back_to_menu = Button(label, router.MAIN_MENU.action)
                    with i18n.context(), i18n.use_locale(locale):
                        await router.handle(ctx, FSMContext(parts.storage, key), event, answer)
                    await session.commit()
    except BackendError as error:
        log_event(logger, "backend.error", logging.WARNING, code=error.code, channel=MAX)
        await _apologise(answer, event, backend_error_text(_in(i18n, locale), error))
    except Exception as error:  # noqa: BLE001 - every failure gets words, none a traceback
        kind = outage_kind(error)
        if kind in (DATABASE, REDIS):
            log_event(logger, "storage.unavailable", logging.WARNING, kind=kind, channel=MAX)
            text = storage_outage_text(_in(i18n, locale))
        else:
            log_event(
                logger,
                "handler.crashed",
                logging.ERROR,
                error=type(error).__name__,
                user=pseudonym(f"max:{sender.user_id}"),
            )
            text = unexpected_error_text(_in(i18n, locale))
        await _apologise(answer, event, text)


async def mark_stopped(parts: MaxParts, user_id: int) -> None:
    """The person stopped the bot: nothing more is sent to them until they start it again.
    Someone the bot never saw gets no row from it."""
    try:
        async with parts.sessionmaker() as session:
            user = await find_user(session, user_id, MAX)
            if user is not None and mark_blocked(user, parts.clock()):
                await session.commit()
                log_event(logger, "user.blocked_bot", known=True, changed=True, channel=MAX)
    except Exception as error:  # noqa: BLE001 - the worker's first refused send says it too
        log_event(logger, "max.stop_unrecorded", logging.WARNING, error=type(error).__name__)


async def _within_limit(parts: MaxParts, sender: Sender, event: Input, answer: MaxAnswer) -> bool:
    """Over the person's rate, before any database work: the input is dropped, never in
    silence — a press is answered with words, a message gets a notice (now and then), and one
    that held a policy number, a code or a birth date is deleted all the same."""
    who = f"max:{sender.user_id}"
    if parts.limiter is None or await parts.limiter.hit(who):
        return True
    log_event(logger, "update.throttled", user=pseudonym(who))
    i18n = parts.i18n
    # No database work before the limit: the language MAX reports, not the stored one.
    locale = pick_locale(None, sender.locale, i18n.available_locales, i18n.default_locale)
    _ = _in(i18n, locale)
    if isinstance(event, Press):
        await answer.answer_press(_("Too many presses: wait a second and press again."))
        return False
    if isinstance(event, Text) and delete_when_dropped(event.text):
        await answer.delete_input()
    if parts.notices is None or await parts.notices.hit(who):
        text = _("Too fast: your last message was skipped. Please wait a moment and send it again.")
        await answer.show([Screen(text)])
    return False


def _in(i18n: I18n, locale: str) -> Callable[[str], str]:
    return lambda msgid: i18n.gettext(msgid, locale=locale)


async def _apologise(answer: MaxAnswer, event: Input, text: str) -> None:
    placement = Placement.ALERT if isinstance(event, Press) else Placement.NEW
    try:
        await answer.show([Screen(text, placement=placement)])
    except Exception as error:  # noqa: BLE001 - MAX would not take the apology either
        log_event(logger, "max.apology_failed", logging.WARNING, error=type(error).__name__)
