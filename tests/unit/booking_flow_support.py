"""Driving the booking and My appointments flows without a messenger: a card linked through
the bot first, then every press sent by its button id (`bot.flows.appointments_press`), each
id checked against what Telegram's CallbackData classes parse and pack."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import select

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.flows.appointments_press import press
from bot.flows.context import FlowContext
from bot.flows.screens import Placement, Screen
from bot.keys import AppKeys
from bot.settings import Settings
from keyboards.appointments import BookCb, PickCb, TimeCb, VisitCb, WhoCb
from keyboards.calendar import CalendarCb
from tests.sandbox_fixtures import free_a_time, free_times
from tests.unit.flow_context import DictMemory, english_context
from tests.unit.policies_support import Chat, persona

CALLBACKS: dict[str, type[CallbackData]] = {
    "aw": WhoCb,
    "ap": PickCb,
    "at": TimeCb,
    "ab": BookCb,
    "av": VisitCb,
    "cal": CalendarCb,
}
TELEGRAM_ID = 6401
FAMILY_ID = 6402
STALE = "This button is out of date. Here is a fresh start."
MENU_HINT = "Choose what to do from the menu."


def parsed(action: str) -> CallbackData:
    """The button id as Telegram routes it: its class unpacks it and packs it back the same."""
    cb = CALLBACKS[action.split(":", 1)[0]].unpack(action)
    assert cb.pack() == action
    return cb


def ids_of(screen: Screen, prefix: str) -> list[str]:
    return [b.action for b in screen.buttons if b.action.startswith(prefix)]


def last_shown(screens: Sequence[Screen]) -> Screen:
    """The step on screen after a press (not a popup or an alert)."""
    steps = [s for s in screens if s.placement not in (Placement.POPUP, Placement.ALERT)]
    assert steps, f"only notices: {[s.text for s in screens]}"
    return steps[-1]


def alerts(screens: Sequence[Screen]) -> list[str]:
    return [s.text for s in screens if s.placement is Placement.ALERT]


def is_stale(screens: Sequence[Screen]) -> bool:
    return alerts(screens) == [STALE] and screens[-1].text == MENU_HINT


class Talk:
    """One user's conversation: the context, the memory and the screen on show."""

    def __init__(self, ctx: FlowContext, backend: SandboxBackend) -> None:
        self.ctx, self.backend, self.memory = ctx, backend, DictMemory()
        self.screen: Screen | None = None

    async def press(self, action: str) -> list[Screen]:
        if action.split(":", 1)[0] in CALLBACKS:
            parsed(action)
        screens = await press(self.ctx, self.memory, action)
        assert screens is not None, action
        for screen in screens:
            for button in screen.buttons:
                if button.action.split(":", 1)[0] in CALLBACKS:
                    parsed(button.action)
        # The step on show: not a file, nor the way home after a refusal.
        shown = [s for s in screens if s.placement in (Placement.NEW, Placement.EDIT)]
        if shown and shown[-1].file is None and shown[-1].menu is None:
            self.screen = shown[-1]
        return screens

    def on_screen(self, prefix: str) -> list[str]:
        assert self.screen is not None
        return ids_of(self.screen, prefix)

    async def tap(self, prefix: str, nth: int = 0) -> list[Screen]:
        found = self.on_screen(prefix)
        assert len(found) > nth, f"no {prefix!r} in {self.screen}"
        return await self.press(found[nth])

    async def to_calendar(self) -> str:
        """From the first choice: a specialty with a doctor who has a free time now (one is
        freed, as a clinic would, if none has), that doctor's calendar. The doctor's id."""
        specialties = self.on_screen("ap:s:")
        assert specialties
        first = self.screen
        for action in specialties:
            self.screen = first
            await self.press(action)
            for doctor in self.on_screen("ap:d:"):
                doctor_id = doctor.split(":", 2)[2]
                if await free_times(self.backend, doctor_id, self.ctx.clock()):
                    await self.press(doctor)
                    return doctor_id
        doctor = self.on_screen("ap:d:")[0]
        doctor_id = doctor.split(":", 2)[2]
        await free_a_time(self.backend, doctor_id, self.ctx.clock())
        await self.press(doctor)
        return doctor_id


async def _talk(
    sessionmaker: SessionMaker, telegram_id: int, clock: FrozenClock, **parts: Any
) -> AsyncIterator[Talk]:
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        ctx = english_context(user, session, clock, first_name="Анна", **parts)
        yield Talk(ctx, parts["backend"])


@pytest.fixture
async def talk(
    chat_for: Any,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    keys: AppKeys,
    settings: Settings,
) -> AsyncIterator[Talk]:
    """Олег, with his own card linked (appointments and the record)."""
    me: Chat = await chat_for(TELEGRAM_ID, "Олег")
    await me.link_own(backend, await persona(backend, "single"))
    async for talk in _talk(
        sessionmaker, TELEGRAM_ID, clock, backend=backend, keys=keys, settings=settings
    ):
        yield talk


@pytest.fixture
async def family(
    chat_for: Any,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    keys: AppKeys,
    settings: Settings,
) -> AsyncIterator[Talk]:
    """Анна, with her own card and her mother's (as "Мама") linked."""
    me: Chat = await chat_for(FAMILY_ID, "Анна")
    await me.link_own(backend, await persona(backend, "mother"))
    await me.link_relative(backend, await persona(backend, "elderly_mother"), label="Мама")
    async for talk in _talk(
        sessionmaker, FAMILY_ID, clock, backend=backend, keys=keys, settings=settings
    ):
        yield talk
