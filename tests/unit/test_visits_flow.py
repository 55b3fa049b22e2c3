"""My appointments as a neutral flow, without a messenger: the list (one person's, or
everyone's after "for whom"), one visit, the .ics file, cancel (asked first; a second "yes"
says it is already done), reschedule through the booking flow's calendar, and a forged visit
or another user's person as an alert that changes nothing."""

from __future__ import annotations

import pytest

from backend_client.models import AppointmentStatus
from bot.flows import booking as booking_flow
from bot.flows import visits as flow
from bot.flows.screens import Placement
from bot.flows.visits import LIST_KEY
from tests.unit.booking_flow_support import Talk, alerts, family, last_shown, talk
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import persona

__all__ = ["backend", "chat_for", "clock", "family", "sandbox_template", "settings", "talk"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


async def booked(talk: Talk, who: int = 0) -> tuple[int, str]:
    """A visit booked through the flow: (person row id, appointment id)."""
    [first] = await booking_flow.book_start(talk.ctx, talk.memory)
    talk.screen = first
    if first.text == "For whom?":
        await talk.tap("aw:b:", who)
    await talk.to_calendar()
    await talk.tap("cal:d:")
    await talk.tap("at:")
    done = await talk.tap("ab:ok:")
    ics = done[-1].file
    assert ics is not None
    appointment_id = ics.name.removeprefix("appointment-").removesuffix(".ics")
    person_id = talk.memory.data["booking"]["person_id"]
    return person_id, appointment_id


async def test_list_visit_ics_and_cancel_asked_first(talk: Talk) -> None:
    person, visit = await booked(talk)
    [listed] = await flow.show_visits(talk.ctx, talk.memory)
    talk.screen = listed
    assert listed.placement is Placement.NEW and listed.protect
    assert listed.text.startswith("<b>My appointments</b>") and "Upcoming:" in listed.text
    assert talk.memory.data[LIST_KEY] == person
    view = f"av:v:{person}:{visit}:0"
    assert view in talk.on_screen("av:v:")

    [shown] = await talk.press(view)
    assert shown.placement is Placement.EDIT and shown.text.startswith("<b>Appointment</b>")
    assert "Status: booked" in shown.text
    assert talk.on_screen("aw:l:") == [f"aw:l:{person}:0"]  # "Back" to the list shown

    [ics] = await talk.press(f"av:i:{person}:{visit}:0")
    # A file to keep (issue 14): saveable, not protected.
    assert ics.file is not None and not ics.protect and ics.placement is Placement.NEW

    [question] = await talk.press(f"av:c:{person}:{visit}:0")
    assert question.text.endswith("<b>Cancel this appointment?</b>")
    assert talk.on_screen("av:") == [f"av:cc:{person}:{visit}:0", view]
    cancelled = await talk.press(f"av:cc:{person}:{visit}:0")
    assert cancelled[0].placement is Placement.POPUP
    assert last_shown(cancelled).text.startswith("❌ The appointment is cancelled.")
    oleg = await persona(talk.backend, "single")
    [gone] = [
        v for v in await talk.backend.appointments_of(oleg.policy) if v.appointment_id == visit
    ]
    assert gone.status is AppointmentStatus.CANCELLED

    again = await talk.press(f"av:cc:{person}:{visit}:0")  # the second "yes"
    assert alerts(again) == ["This appointment is already cancelled."]
    fixed = await talk.press(f"av:m:{person}:{visit}:0")
    assert alerts(fixed) and "can no longer be changed" in alerts(fixed)[0]
    assert last_shown(fixed).text.startswith("<b>Appointment</b>")


async def test_reschedule_from_a_visit_and_from_a_notification(talk: Talk) -> None:
    person, visit = await booked(talk)
    calendar = await talk.press(f"av:m:{person}:{visit}:1")  # a reminder's "Reschedule"
    assert [s.placement for s in calendar] == [Placement.NEW]
    assert "Moving the appointment of" in calendar[0].text
    assert "ab:w:" not in talk.on_screen("ab:")  # no watch while rescheduling
    await talk.tap("cal:d:")
    [confirm] = await talk.tap("at:")
    assert confirm.text.startswith("<b>Move the appointment?</b>") and "Move: from" in confirm.text
    done = await talk.tap("ab:ok:")
    assert "<b>The appointment is moved:</b>" in done[1].text


async def test_forged_visit_and_another_users_person(talk: Talk) -> None:
    person, _visit = await booked(talk)
    gone = await talk.press(f"av:v:{person}:no-such-visit:0")
    assert alerts(gone) == [
        "This appointment is no longer in the list: it may have been cancelled. Nothing "
        "was changed."
    ]
    assert last_shown(gone).text.startswith("<b>My appointments</b>")
    refused = await talk.press("av:cc:999999:whatever:0")
    assert alerts(refused) == ["This person is not in your list. Open My people."]
    refused = await talk.press("aw:l:999999:0")
    assert alerts(refused) == ["This person is not in your list. Open My people."]


async def test_everyone_together(family: Talk) -> None:
    mama, _visit = await booked(family, who=1)
    [whom] = await flow.show_visits(family.ctx, family.memory)
    family.screen = whom
    assert whom.text == "For whom?"
    assert family.on_screen("aw:l:")[-1] == "aw:l:0:0"
    [everyone] = await family.press("aw:l:0:0")
    assert everyone.text.count("<b>") >= 3  # the title and one block per person
    assert family.memory.data[LIST_KEY] == 0
    visit_button = next(b for b in everyone.buttons if b.action.startswith(f"av:v:{mama}:"))
    assert visit_button.text.startswith("Мама: ")
    await family.press(visit_button.action)
    assert family.on_screen("aw:l:") == ["aw:l:0:0"]  # "Back" to everyone's list
