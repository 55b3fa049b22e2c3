"""The medical record: a lab value carries its mark once (after the value and
unit), one legend line and at most one disclaimer; the way back from a document (and from a
trend chart) leads to the list page and period the user was on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from aiogram import Dispatcher

from backend_client.models import AnalyteFlag, AnalyteResult, Document, LabPanel, Section
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.services.records.browse import PAGE_SIZE
from bot.services.records.pdf import PdfLabels, _lab_line
from bot.services.records.periods import Period
from bot.services.records.view import DocumentLabels, document_html, lab_row
from bot.settings import Settings
from keyboards.records import DocAction, RecDocCb, RecListCb, RecTrendCb
from tests.conftest import TEST_KEY, sqlite_settings, unthrottled
from tests.sandbox_fixtures import open_sandbox
from tests.unit.flow_fixtures import chat_for, clock, sandbox_template
from tests.unit.policies_support import Chat, people_rows, persona
from tests.unit.records_support import button, buttons, last_with_buttons, medical_to

__all__ = ["chat_for", "clock", "sandbox_template"]

KEYS = AppKeys(TEST_KEY)
MENU = "🩺 Медкарта"
LABELS = DocumentLabels(
    section="Анализы",
    doctor="Врач",
    clinic="Медорганизация",
    performed="Проведено",
    reference="норма",
    out_of_range_note="↑ выше, ↓ ниже референсного интервала.",
    disclaimer="Результаты оценивает лечащий врач.",
)

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


def hba1c(**kw: object) -> AnalyteResult:
    base: dict[str, object] = {
        "code": "HBA1C",
        "name": "Гликированный гемоглобин (HbA1c)",
        "value": 6.7,
        "unit": "%",
        "ref_low": 4,
        "ref_high": 6,
        "flag": AnalyteFlag.HIGH,
        "interpretation": "Выше референсного интервала",
    }
    return AnalyteResult.model_validate(base | kw)


def lab_doc(text: str | None) -> Document:
    return Document(
        entry_id="e1",
        patient_id="p1",
        section=Section.LABS,
        title="Биохимический анализ крови",
        date=date(2026, 2, 16),
        panels=[LabPanel(name="Биохимия", results=[hba1c(), hba1c(code="GLU", name="Глюкоза")])],
        text=text,
        has_abnormal=True,
    )


# --- the lab table --------------------------------------------------------------------------


def test_a_high_value_has_one_arrow_after_value_and_unit() -> None:
    row = lab_row(hba1c(), LABELS, "ru")
    assert "Гликированный гемоглобин (HbA1c): <b>6,7 %</b> ↑ <i>(норма 4–6)</i>" in row
    assert row.count("↑") == 1
    # "Above the reference range" under an ↑ says the same twice: it is left out.
    assert "Выше референсного интервала" not in row


def test_an_interpretation_that_says_more_than_the_arrow_stays() -> None:
    row = lab_row(hba1c(interpretation="Требуется контроль через 3 месяца"), LABELS, "ru")
    assert "Требуется контроль через 3 месяца" in row
    normal = lab_row(
        hba1c(value=5.1, flag=AnalyteFlag.NORMAL, interpretation="Норма"), LABELS, "ru"
    )
    assert "↑" not in normal and "Норма" in normal


def test_one_legend_and_one_disclaimer() -> None:
    # The lab's own note (the document's text) is the disclaimer: ours is not added.
    with_note = document_html(lab_doc("Оценку результатов проводит лечащий врач."), LABELS, "ru")
    assert with_note.count("↑ выше, ↓ ниже") == 1
    assert "Результаты оценивает лечащий врач" not in with_note
    assert with_note.count("↑") == 3  # two values and the legend
    # Without a note of the lab's own, one short disclaimer on the legend's line.
    bare = document_html(lab_doc(None), LABELS, "ru")
    assert bare.count("Результаты оценивает лечащий врач.") == 1
    assert (
        "<i>↑ выше, ↓ ниже референсного интервала. Результаты оценивает лечащий врач.</i>" in bare
    )


def test_the_pdf_line_has_one_arrow_too() -> None:
    labels = PdfLabels(
        title="Медкарта",
        subtitle="Период",
        contents="Содержание",
        doctor="Врач",
        clinic="Медорганизация",
        performed="Проведено",
        reference="норма",
        footer="Врачебная тайна",
        sections={},
    )
    line = _lab_line(hba1c(), labels, "ru")
    assert line.count("↑") == 1 and "6,7 % ↑" in line
    assert "Выше референсного интервала" not in line


# --- the way back ---------------------------------------------------------------------------


@pytest.fixture
def settings(clean_env: None, tmp_path: Path) -> Settings:
    return unthrottled(sqlite_settings(tmp_path, backend={"backend_timeout_seconds": 5.0}))


@pytest.fixture
async def backend(
    sandbox_template: Path, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[SandboxBackend]:
    async with open_sandbox(sandbox_template, tmp_path, clock) as sandbox:
        yield sandbox


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock)


async def test_back_from_a_document_returns_to_the_page_and_period(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(4301, "Галина")
    await me.link_own(backend, galina)
    grants = await backend.list_grants_received(requester_id_for(KEYS, 4301))
    total = (
        await backend.list_entries(
            grants[0].grant_id, grants[0].requester_id, Section.LABS, limit=1
        )
    ).total
    assert total > PAGE_SIZE  # at least two pages

    await me.text(MENU)
    await me.press(button(last_with_buttons(me.rec, 4301), "🧪"))
    await me.press(button(last_with_buttons(me.rec, 4301), "Раньше"))
    second = me.last_request("editMessageText")
    assert "страница 2 из" in second.text
    entry = next(d for _t, d in buttons(second) if d.startswith("rd:"))

    await me.press(entry)
    document = medical_to(me.rec, 4301)[-1]
    back = RecListCb.unpack(button(document, "⬅️ К списку"))
    assert (back.s, back.f, back.n) == (Section.LABS, Period.ALL, 1)
    assert button(document, "⬅️ Разделы")  # the sections are still one tap away
    await me.press(back.pack())
    assert "страница 2 из" in last_with_buttons(me.rec, 4301).text


async def test_back_keeps_the_period_filter_and_a_foreign_list_is_not_reused(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(4302, "Галина")
    await me.link_own(backend, galina)
    person = (await people_rows(sessionmaker, 4302))[0].id

    await me.press(RecListCb(p=person, s=Section.LABS, f=Period.YEAR, n=0).pack())
    year_list = last_with_buttons(me.rec, 4302)
    assert "Период: год" in year_list.text
    await me.press(next(d for _t, d in buttons(year_list) if d.startswith("rd:")))
    back = RecListCb.unpack(button(medical_to(me.rec, 4302)[-1], "⬅️ К списку"))
    assert (back.f, back.n) == (Period.YEAR, 0)

    # A document of another section (from a notification, say): its own list, from the top.
    grant, requester = (
        (await backend.list_grants_received(requester_id_for(KEYS, 4302)))[0].grant_id,
        requester_id_for(KEYS, 4302),
    )
    visits = await backend.list_entries(grant, requester, Section.PROTOCOLS, limit=1)
    await me.press(RecDocCb(a=DocAction.OPEN, p=person, e=visits.items[0].entry_id).pack())
    back = RecListCb.unpack(button(medical_to(me.rec, 4302)[-1], "⬅️ К списку"))
    assert (back.s, back.f, back.n) == (Section.PROTOCOLS, Period.ALL, 0)


async def test_the_trend_chart_leads_back_to_its_document_and_list(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(4303, "Галина")
    await me.link_own(backend, galina)
    person = (await people_rows(sessionmaker, 4303))[0].id
    grant = (await backend.list_grants_received(requester_id_for(KEYS, 4303)))[0].grant_id
    history = await backend.analyte_history(grant, requester_id_for(KEYS, 4303), "HBA1C")
    entry = history.points[-1].entry_id

    await me.press(RecDocCb(a=DocAction.OPEN, p=person, e=entry).pack())
    document = medical_to(me.rec, 4303)[-1]
    trend = RecTrendCb.unpack(button(document, "📈 Динамика: Гликированный"))
    assert trend.e == entry
    await me.press(trend.pack())
    photo = me.last_request("sendPhoto")
    assert RecDocCb.unpack(button(photo, "⬅️ К документу")).e == entry
    assert RecListCb.unpack(button(photo, "⬅️ К списку")).s is Section.LABS
    # A trend button from before the document id was added still works.
    since = len(me.rec.requests)
    await me.press(f"rt:{person}:HBA1C")
    assert any(r.__api_method__ == "sendPhoto" for r in me.rec.requests[since:])
