"""The medical record as a neutral flow, without a messenger: a real sandbox and database, the
card linked through the bot first, then every step called directly (screens in, screens out).
Forged or stale buttons are refused with an alert and show nothing; every button id is what
Telegram's CallbackData classes (keyboards/records.py) parse."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import select

from backend_client.models import Section
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.flows import records as flow
from bot.flows.context import FlowContext
from bot.flows.records_press import press
from bot.flows.records_screens import list_id
from bot.flows.screens import Placement, Screen
from bot.keys import AppKeys
from bot.services.records.periods import Period
from bot.settings import Settings
from keyboards.records import (
    DocAction,
    RecDocCb,
    RecExportCb,
    RecHomeCb,
    RecJournalCb,
    RecListCb,
    RecTrendCb,
    RecWhoCb,
)
from tests.unit.flow_context import DictMemory, english_context
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

TELEGRAM_ID = 4301
NOT_YOURS = "This person is not in your list. Open My people."
CALLBACKS: dict[str, type[CallbackData]] = {
    "rh": RecHomeCb,
    "rl": RecListCb,
    "rd": RecDocCb,
    "rt": RecTrendCb,
    "rx": RecExportCb,
    "rj": RecJournalCb,
    "rw": RecWhoCb,
}


@pytest.fixture
async def talk(
    chat_for: Any,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    keys: AppKeys,
    settings: Settings,
) -> AsyncIterator[FlowContext]:
    me: Chat = await chat_for(TELEGRAM_ID, "Галина")
    await me.link_own(backend, await persona(backend, "elderly_mother"))
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == TELEGRAM_ID))
        assert user is not None
        yield english_context(
            user,
            session,
            clock,
            backend=backend,
            keys=keys,
            settings=settings,
            first_name="Галина",
        )


async def person_of(sessionmaker: SessionMaker) -> int:
    return (await people_rows(sessionmaker, TELEGRAM_ID))[0].id


def parsed(action: str) -> CallbackData:
    """The button id as Telegram routes it: the class of its prefix unpacks it, and packs it
    back to the same id."""
    cb = CALLBACKS[action.split(":", 1)[0]].unpack(action)
    assert cb.pack() == action
    return cb


def button(screen: Screen, starts: str) -> str:
    found = [b.action for b in screen.buttons if b.text.startswith(starts)]
    assert found, f"no button {starts!r} in {[b.text for b in screen.buttons]}"
    return found[0]


def refused(screens: Sequence[Screen], text: str) -> None:
    assert [(s.text, s.placement) for s in screens] == [(text, Placement.ALERT)]


async def test_home_list_paging_document_and_ids_telegram_parses(
    talk: FlowContext, sessionmaker: SessionMaker
) -> None:
    memory = DictMemory()
    [home] = await flow.open_records(talk, memory)
    assert home.text.startswith("<b>Medical record</b>") and home.protect
    assert "👁 Who viewed my card" in [b.text for b in home.buttons]  # the own card
    for b in home.buttons:
        parsed(b.action)

    person = await person_of(sessionmaker)
    labs = parsed(button(home, "🧪"))
    assert isinstance(labs, RecListCb) and (labs.p, labs.s, labs.n) == (person, Section.LABS, 0)
    [first] = await flow.show_list(talk, memory, person, Section.LABS, Period.ALL, 0, 0)
    assert first.placement is Placement.NEW and first.protect
    assert "page 1 of" in first.text
    older = parsed(button(first, "Older ▶️"))
    assert isinstance(older, RecListCb) and (older.n, older.m) == (1, 1)

    [second] = await flow.show_list(talk, memory, person, Section.LABS, Period.ALL, 1, 1)
    assert second.placement is Placement.EDIT and "page 2 of" in second.text
    entry = parsed(second.buttons[0].action)
    assert isinstance(entry, RecDocCb) and entry.a is DocAction.OPEN

    document = await flow.open_document(talk, memory, person, entry.e)
    assert all(s.protect for s in document) and document[-1].rows
    # "To the list" returns to the page the document was opened from.
    assert button(document[-1], "⬅️ To the list") == list_id(person, Section.LABS, Period.ALL, 1)
    for b in document[-1].buttons:
        parsed(b.action)

    [pdf] = await flow.document_pdf(talk, person, entry.e)
    # A file to keep (issue 14): saveable, named for what and whose it is.
    assert pdf.file is not None and pdf.file.data.startswith(b"%PDF") and not pdf.protect
    assert pdf.file.mime == "application/pdf" and pdf.file.name.endswith(".pdf")
    assert entry.e not in pdf.file.name


async def test_trend_chart_is_a_protected_png_with_its_way_back(
    talk: FlowContext, sessionmaker: SessionMaker
) -> None:
    person = await person_of(sessionmaker)
    memory = DictMemory()
    await flow.show_list(talk, memory, person, Section.LABS, Period.ALL, 1, 1)
    # HbA1c: this persona's yearly check-ups give it several results.
    [chart] = await flow.trend(talk, memory, person, "HBA1C", "")
    assert chart.file is not None and chart.file.mime == "image/png" and chart.protect
    assert chart.file.data.startswith(b"\x89PNG") and chart.file.name == "trend-HBA1C.png"
    assert chart.text.startswith("📈 ") and chart.text.endswith(" results")
    # No document to go back to (an older button); the list is the page on show.
    assert not any(b.text == "⬅️ To the document" for b in chart.buttons)
    assert button(chart, "⬅️ To the list") == list_id(person, Section.LABS, Period.ALL, 1)
    for b in chart.buttons:
        parsed(b.action)


async def test_export_says_preparing_first_reports_progress_and_sends_one_pdf(
    talk: FlowContext, sessionmaker: SessionMaker
) -> None:
    person = await person_of(sessionmaker)
    [ask] = await flow.export_ask(talk, person)
    periods = [parsed(b.action) for b in ask.buttons]
    assert all(isinstance(p, RecExportCb) and p.p == person for p in periods)
    assert {p.f for p in periods if isinstance(p, RecExportCb)} == set(Period)

    said: list[Screen] = []
    calls: list[int] = []

    async def say(screens: Sequence[Screen]) -> None:
        said.extend(screens)

    [pdf] = await flow.export(talk, person, Period.ALL, progress=lambda: calls.append(1), say=say)
    assert [(s.text, s.placement) for s in said] == [("Preparing the PDF…", Placement.POPUP)]
    assert calls  # each backend answer gave the export more time
    assert pdf.file is not None and pdf.file.data.startswith(b"%PDF") and not pdf.protect
    assert pdf.text.startswith("Medical record, all time.\n🔒 This file contains medical data")


async def test_journal_lists_this_bots_views(talk: FlowContext, sessionmaker: SessionMaker) -> None:
    person = await person_of(sessionmaker)
    await flow.show_list(talk, DictMemory(), person, Section.LABS, Period.ALL, 0, 0)
    screens = await flow.journal(talk)
    text = "\n".join(s.text for s in screens)
    assert all(s.protect for s in screens)
    assert "Who viewed my card" in text and "You: opened the list" in text


async def test_forged_and_stale_buttons_are_refused_and_show_nothing(
    talk: FlowContext, sessionmaker: SessionMaker
) -> None:
    forged = await person_of(sessionmaker) + 1000  # somebody else's row id
    memory = DictMemory()
    refused(await flow.home(talk, memory, forged), NOT_YOURS)
    refused(await flow.show_list(talk, memory, forged, Section.LABS, Period.ALL, 0, 1), NOT_YOURS)
    refused(await flow.open_document(talk, memory, forged, "e1"), NOT_YOURS)
    refused(await flow.document_pdf(talk, forged, "e1"), NOT_YOURS)
    refused(await flow.trend(talk, memory, forged, "HBA1C", ""), NOT_YOURS)
    refused(await flow.export_ask(talk, forged), NOT_YOURS)

    async def say(screens: Sequence[Screen]) -> None:
        raise AssertionError("a refused export must not say it is preparing")

    refused(await flow.export(talk, forged, Period.ALL, progress=None, say=say), NOT_YOURS)
    assert memory.data == {}  # nothing remembered from a refused press


async def nothing_said(screens: Sequence[Screen]) -> None:
    raise AssertionError("only the export says anything before it ends")


async def test_a_press_by_id_alone_leads_where_the_telegram_route_does(
    talk: FlowContext, sessionmaker: SessionMaker
) -> None:
    person = await person_of(sessionmaker)
    [home] = await flow.home(talk, DictMemory(), person)
    labs = button(home, "🧪")
    assert await press(talk, DictMemory(), labs, say=nothing_said) == await flow.show_list(
        talk, DictMemory(), person, Section.LABS, Period.ALL, 0, 0
    )
    assert await press(talk, DictMemory(), button(home, "📄"), say=nothing_said) == (
        await flow.export_ask(talk, person)
    )
    # A trend button packed before it carried the document (still in chats) works too.
    screens = await press(talk, DictMemory(), f"rt:{person}:HBA1C", say=nothing_said)
    assert screens is not None and len(screens) == 1
    assert screens[0].file is not None and screens[0].file.mime == "image/png"


@pytest.mark.parametrize(
    "action",
    ["zz:1", "rh:abc", "rh:1:2", "rl:1", "rl:1:nope:all:0:0", "rl:1:labs:never:0:0", "rd:x:1:e"],
)
async def test_an_id_that_is_no_records_button_is_not_taken(talk: FlowContext, action: str) -> None:
    memory = DictMemory()
    assert await press(talk, memory, action, say=nothing_said) is None
    assert memory.data == {}


async def test_a_forged_person_by_id_alone_is_refused(
    talk: FlowContext, sessionmaker: SessionMaker
) -> None:
    forged = await person_of(sessionmaker) + 1000
    for action in (f"rh:{forged}", f"rl:{forged}:labs:all:0:1", f"rd:o:{forged}:e1"):
        refused(await press(talk, DictMemory(), action, say=nothing_said) or [], NOT_YOURS)
