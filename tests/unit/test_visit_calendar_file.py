"""The visit's .ics from My appointments (issue 14, defect 2): a file to keep and open in a
calendar app, so it is sent saveable (not protected) and says once that it is medical; the
visit's own screen in the chat stays protected."""

from __future__ import annotations

import pytest

from bot.flows import visits as flow
from bot.flows.screens import Placement
from tests.unit.booking_flow_support import Talk, family, talk
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.test_visits_flow import booked

__all__ = ["backend", "chat_for", "clock", "family", "sandbox_template", "settings", "talk"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


async def test_the_calendar_file_is_saveable_and_says_it_is_medical(talk: Talk) -> None:
    person, visit = await booked(talk)
    [listed] = await flow.show_visits(talk.ctx, talk.memory)
    talk.screen = listed
    [shown] = await talk.press(f"av:v:{person}:{visit}:0")
    assert shown.protect  # the visit in the chat stays protected

    [ics] = await talk.press(f"av:i:{person}:{visit}:0")
    assert ics.file is not None and ics.file.mime == "text/calendar"
    assert ics.file.data.startswith(b"BEGIN:VCALENDAR")
    assert ics.protect is False and ics.placement is Placement.NEW
    assert ics.text.startswith("📆 Add to calendar")
    assert "This file contains medical data" in ics.text
