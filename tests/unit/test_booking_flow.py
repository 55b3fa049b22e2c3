"""Booking as a neutral flow, without a messenger: a real sandbox and database, the card
linked through the bot first, then every press sent by its button id. A choice that was not
offered, a day outside the window, a wrong token or another user's person is refused and
books nothing; every id is what Telegram's CallbackData classes parse."""

from __future__ import annotations

import pytest

from backend_client.sandbox import SandboxBackend
from bot.flows import booking as flow
from bot.flows.appointments_press import press
from bot.flows.screens import Placement
from bot.services.appointments.booking import DRAFT_KEY
from tests.unit.booking_flow_support import (
    MENU_HINT,
    TELEGRAM_ID,
    Talk,
    alerts,
    family,
    is_stale,
    last_shown,
    talk,
)
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import persona

__all__ = ["backend", "chat_for", "clock", "family", "sandbox_template", "settings", "talk"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


async def visit_ids(backend: SandboxBackend) -> set[str]:
    oleg = await persona(backend, "single")
    return {v.appointment_id for v in await backend.appointments_of(oleg.policy)}


async def test_book_from_menu_to_confirmation_done_and_ics(talk: Talk) -> None:
    before = await visit_ids(talk.backend)
    [what] = await flow.book_start(talk.ctx, talk.memory)
    talk.screen = what
    assert what.placement is Placement.NEW and what.protect
    assert "Patient: " in what.text and "Choose a specialty" in what.text
    assert "General practitioner" in [b.text for b in what.buttons]  # English names by code
    assert what.buttons[-1].action == "ab:x:"

    await talk.to_calendar()
    calendar = talk.screen
    assert calendar is not None and calendar.placement is Placement.EDIT and calendar.protect
    assert "Choose a day" in calendar.text and "Address:" in calendar.text
    assert "ab:w:" in talk.on_screen("ab:")  # a booking may turn into a watch
    [times] = await talk.tap("cal:d:")
    assert "choose a time (Moscow time)" in times.text
    assert talk.on_screen("ab:days")
    [confirm] = await talk.tap("at:")
    assert confirm.text.startswith("<b>Check and confirm</b>")
    [ok] = talk.on_screen("ab:ok:")
    assert len(ok) > len("ab:ok:")  # the token

    done = await talk.press(ok)
    assert [s.placement for s in done] == [Placement.POPUP, Placement.EDIT, Placement.NEW]
    assert done[0].text == "Done"
    assert done[1].text.startswith("✅ <b>Appointment booked:</b>")
    ics = done[2].file
    assert ics is not None and not done[2].protect and ics.mime == "text/calendar"
    assert "medical data" in done[2].text  # saveable (issue 14, 2), and said what it holds
    [visit] = (await visit_ids(talk.backend)) - before
    assert ics.name == f"appointment-{visit}.ics"
    assert f"UID:{visit}@emk-bot" in ics.data.decode()

    again = await talk.press(ok)  # a double tap, or the update delivered again
    assert alerts(again) == ["Already done. See My appointments."]
    assert last_shown(again).text == done[1].text
    assert len(await visit_ids(talk.backend)) == len(before) + 1


async def test_choices_not_offered_are_stale_and_book_nothing(talk: Talk) -> None:
    assert is_stale(await talk.press("ap:s:therapist"))  # no draft yet
    talk.screen = (await flow.book_start(talk.ctx, talk.memory))[0]
    assert is_stale(await talk.press("ap:d:forged-doctor"))
    assert is_stale(await talk.press("cal:d:20200101"))  # no doctor chosen yet
    await talk.to_calendar()
    assert is_stale(await talk.press("cal:d:20200101"))  # outside the window
    assert is_stale(await talk.press("cal:m:202013"))  # no such month
    assert is_stale(await talk.press("at:0"))  # no times offered yet
    await talk.tap("cal:d:")
    offered = len(talk.on_screen("at:"))
    assert is_stale(await talk.press(f"at:{offered}"))
    await talk.tap("at:")
    assert is_stale(await talk.press("ab:ok:not-the-token"))
    assert is_stale(await talk.press("ab:od:"))  # another doctor: only when rescheduling
    [cancelled] = await talk.press("ab:x:")
    assert cancelled.text == "Cancelled. Nothing was booked or changed."
    assert talk.memory.data[DRAFT_KEY] is None


async def test_full_days_noop_cells_and_months(talk: Talk) -> None:
    talk.screen = (await flow.book_start(talk.ctx, talk.memory))[0]
    await talk.to_calendar()
    assert await talk.press("cal:n:") == []
    [full] = await talk.press("cal:f:20990101")
    assert full.placement is Placement.ALERT and "✕" in full.text
    months = talk.on_screen("cal:m:")
    if months:
        [other] = await talk.press(months[0])
        assert other.placement is Placement.EDIT and "Patient: " in other.text
    [back] = await talk.press("ab:days:")
    assert back.buttons and talk.on_screen("cal:")


async def test_another_users_person_and_foreign_ids(talk: Talk) -> None:
    refused = await talk.press("aw:b:999999:0")
    assert alerts(refused) == ["This person is not in your list. Open My people."]
    assert refused[-1].text == MENU_HINT and refused[-1].menu is not None
    assert is_stale(await talk.press("ab:w:"))  # a watch from a calendar never shown
    assert await press(talk.ctx, talk.memory, "ppl:v:1") is None
    assert await press(talk.ctx, talk.memory, "ap:zz:x") is None
    assert await press(talk.ctx, talk.memory, "aw:b:x:0") is None


async def test_one_person_is_not_asked_for(talk: Talk) -> None:
    [what] = await flow.book_start(talk.ctx, talk.memory)
    assert what.text.startswith("Patient: ")
    assert talk.memory.data[DRAFT_KEY]["person_id"] > 0
    assert talk.ctx.user.telegram_id == TELEGRAM_ID


async def test_for_whom_then_booking_for_a_relative(family: Talk) -> None:
    [whom] = await flow.book_start(family.ctx, family.memory)
    family.screen = whom
    assert whom.text == "For whom?" and whom.protect
    assert len(whom.buttons) == 2 and "Мама" in [b.text for b in whom.buttons]
    [what] = await family.tap("aw:b:", 1)
    assert what.placement is Placement.EDIT and "Patient: " in what.text
    await family.to_calendar()
    await family.tap("cal:d:")
    [confirm] = await family.tap("at:")
    assert "Patient: " in confirm.text
    done = await family.tap("ab:ok:")
    assert "<b>Appointment booked:</b>" in done[1].text

    anew = await family.press("aw:b:" + whom.buttons[0].action.split(":")[2] + ":1")
    assert [s.placement for s in anew] == [Placement.NEW]  # from a notification: a new message
