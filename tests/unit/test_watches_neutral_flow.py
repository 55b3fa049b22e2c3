"""Slot watches as a neutral flow, without a messenger: the list, a new watch chosen like a
booking and set up in five answers (each the next one, and one of its presets), one from a
booking's calendar, stopping it, the slot-found message and its "Book it" / "Stop watching"
buttons; a forged hit, watch or answer is out of date and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.appointments_models import SlotWatch, WatchHit
from bot.flows import booking as booking_flow
from bot.flows import watches as flow
from bot.flows.screens import Placement
from bot.flows.watch_notify import slot_found
from bot.flows.watch_setup import SETUP_KEY
from tests.sandbox_fixtures import free_a_time, free_times
from tests.unit.booking_flow_support import Talk, alerts, is_stale, last_shown, talk
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings", "talk"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

ANSWERS = ("ws:t:doc", "ws:r:14", "ws:h:any", "ws:d:all", "ws:m:tell")


async def watch_set_up(talk: Talk) -> str:
    """Slot watches → New watch → a specialty and doctor → the five answers. The doctor id."""
    [listed] = await flow.show_watches(talk.ctx, talk.memory)
    talk.screen = listed
    assert listed.placement is Placement.NEW and listed.protect
    assert "No watches." in listed.text and talk.on_screen("wt:") == ["wt:n:0"]
    [what] = await talk.press("wt:n:0")  # one person: no "for whom"
    assert "Choose a specialty" in what.text
    doctor = await talk.to_calendar()
    assert talk.screen is not None and "Which doctor suits?" in talk.screen.text
    assert talk.on_screen("ws:") == ["ws:t:doc", "ws:t:clinic", "ws:t:any"]
    assert is_stale(await talk.press("ws:r:14"))  # not the next question
    assert is_stale(await talk.press("ws:t:forged"))  # not one of its presets
    for answer in ANSWERS[:-1]:
        [question] = await talk.press(answer)
        assert question.placement is Placement.EDIT and question.buttons[-1].action == "ab:x:"
    done = await talk.press(ANSWERS[-1])
    assert done[0].placement is Placement.POPUP and done[0].text == "Watching."
    assert done[1].text.startswith("🔔 <b>Watching.</b>") and "<b>Slot watches</b>" in done[1].text
    assert talk.memory.data[SETUP_KEY] is None and talk.memory.data["booking"] is None
    return doctor


async def test_set_up_list_and_stop(talk: Talk) -> None:
    await watch_set_up(talk)
    [stop] = talk.on_screen("wt:s:")
    assert talk.on_screen("wt:n:") == ["wt:n:0"]
    stopped = await talk.press(stop)
    assert stopped[0].text == "Stopped."
    assert last_shown(stopped).text.startswith("🔕 The watch is stopped.")
    assert is_stale(await talk.press(stop))  # already stopped
    assert is_stale(await talk.press("wt:s:999999"))


async def test_a_watch_from_a_booking_calendar(talk: Talk) -> None:
    talk.screen = (await booking_flow.book_start(talk.ctx, talk.memory))[0]
    await talk.to_calendar()
    [target] = await talk.tap("ab:w:")
    assert "<b>Watch for a free slot</b>" in target.text
    assert talk.memory.data["booking"]["mode"] == "watch"
    for answer in ANSWERS:
        screens = await talk.press(answer)
    assert alerts(screens) == [] and screens[0].text == "Watching."


async def test_slot_found_book_it_and_stop_watching(talk: Talk) -> None:
    doctor = await watch_set_up(talk)
    ctx = talk.ctx
    watch = (await ctx.session.scalars(select(SlotWatch))).one()
    slots = await free_times(talk.backend, doctor, ctx.clock())
    slot = slots[0] if slots else await free_a_time(talk.backend, doctor, ctx.clock())
    hit = WatchHit(
        watch_id=watch.id,
        slot_id=slot.slot_id,
        doctor_id=doctor,
        starts_at=slot.starts_at,
        found_at=ctx.clock(),
    )
    ctx.session.add(hit)
    await ctx.session.flush()

    told = await slot_found(ctx, ctx.session, talk.backend, ctx.keys, hit.id)
    assert told is not None and told.user.id == ctx.user.id
    assert told.screen.protect and "A free slot has appeared" in told.screen.text
    assert [b.action for b in told.screen.buttons] == [f"wh:{hit.id}:book", f"wh:{hit.id}:stop"]

    assert is_stale(await talk.press("wh:999999:book"))  # forged, or another user's hit
    [confirm] = await talk.press(f"wh:{hit.id}:book")
    assert confirm.placement is Placement.NEW  # the notification stays as it was
    assert confirm.text.startswith("<b>Check and confirm</b>")
    done = await talk.tap("ab:ok:")
    assert "<b>Appointment booked:</b>" in done[1].text
    await ctx.session.refresh(watch)
    assert not watch.active  # booked: the watch has done its job

    stopped = await talk.press(f"wh:{hit.id}:stop")
    assert [(s.text, s.placement) for s in stopped] == [
        ("Stopped.", Placement.POPUP),
        ("", Placement.STRIP),
    ]
