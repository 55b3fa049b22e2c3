"""Notification settings as a flow, without a messenger (a real database, no Telegram): each
press saves its change and answers with the page it leads to; forged values change nothing;
the button ids are what Telegram's NotifySetCb parses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.flows import notification_settings as flow
from bot.flows.context import FlowContext
from bot.flows.notification_settings import SetAction
from bot.flows.screens import Placement, Screen
from bot.keys import AppKeys
from bot.services.notifications.settings import load_prefs
from bot.settings import Settings
from keyboards.notifications import NotifySetCb
from tests.unit.flow_context import english_context


@pytest.fixture
async def ctx(
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    backend: RecordsBackend,
    keys: AppKeys,
    settings: Settings,
) -> AsyncIterator[FlowContext]:
    async with sessionmaker() as session:
        now = clock()
        user = User(
            telegram_id=8201, language="en", consent_given_at=now, created_at=now, last_seen_at=now
        )
        session.add(user)
        await session.flush()
        yield english_context(user, session, clock, backend=backend, keys=keys, settings=settings)


def texts(screen: Screen) -> list[str]:
    return [b.text for b in screen.buttons]


async def test_home_shows_every_switch_quiet_hours_and_reminder_times(ctx: FlowContext) -> None:
    [home] = await flow.home(ctx)
    assert home.placement is Placement.EDIT
    assert texts(home) == [
        "✅ New results",
        "✅ Visit reminders",
        "✅ Clinic changes to visits",
        "✅ Free slots for my watches",
        "🌙 Quiet hours: 22:00–08:00",
        "⏰ Remind before a visit: 1 day, 2 hours",
    ]


async def test_a_press_saves_and_shows_where_it_leads(ctx: FlowContext) -> None:
    session: AsyncSession = ctx.session
    [home] = await flow.press(ctx, SetAction.SWITCH, "results")
    assert texts(home)[0] == "▫️ New results"
    [picker] = await flow.press(ctx, SetAction.QUIET_START, "")
    assert picker.text == "When do quiet hours start?"
    offered = [t.lstrip("• ") for t in texts(picker)]
    assert "08:00" not in offered and "23:00" in offered  # the end is not offered as a start
    [quiet] = await flow.press(ctx, SetAction.QUIET_START, "1380")
    assert "Start: 23:00" in texts(quiet)
    [offsets] = await flow.press(ctx, SetAction.OFFSET_TOGGLE, "60")
    assert "✅ 1 hour" in texts(offsets)
    prefs = await load_prefs(session, ctx.user.id)
    assert not prefs.results and prefs.quiet.start == 23 * 60 and 60 in prefs.offsets


@pytest.mark.parametrize(
    ("action", "value"),
    [
        (SetAction.SWITCH, "everything"),
        (SetAction.OFFSET_TOGGLE, "7"),
        (SetAction.OFFSET_TOGGLE, "soon"),
        (SetAction.QUIET_END, "99999"),
    ],
)
async def test_forged_values_are_refused_and_change_nothing(
    ctx: FlowContext, action: SetAction, value: str
) -> None:
    before = await load_prefs(ctx.session, ctx.user.id)
    [alert] = await flow.press(ctx, action, value)
    assert alert.placement is Placement.ALERT
    assert await load_prefs(ctx.session, ctx.user.id) == before


async def test_quiet_hours_cannot_start_when_they_end(ctx: FlowContext) -> None:
    [alert] = await flow.press(ctx, SetAction.QUIET_START, str(8 * 60))
    assert alert.placement is Placement.ALERT and "same time" in alert.text


async def test_every_id_is_what_the_telegram_factory_parses(ctx: FlowContext) -> None:
    screens = [
        *(await flow.home(ctx)),
        *(await flow.press(ctx, SetAction.QUIET, "")),
        *(await flow.press(ctx, SetAction.QUIET_END, "")),
        *(await flow.press(ctx, SetAction.OFFSETS, "")),
    ]
    for button in (b for s in screens for b in s.buttons):
        parsed = NotifySetCb.unpack(button.action)
        assert flow.action_id(parsed.action, parsed.value) == button.action
