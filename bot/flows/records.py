"""🩺 The medical record, channel-neutral: whose card, sections, paged lists, documents,
trends, PDFs, export and the owner's "who viewed my card". Every read goes through
`RecordDesk`, which checks the current grant first and writes the journal; a forged or stale
button (another person's id, a revoked grant) is an alert and shows nothing.

The conversation's memory (Telegram: the FSM data) holds opaque backend cursors only.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Sequence

from backend_client.models import Scope, Section
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson
from bot.flows.booking_actions import book_by_referral_rows
from bot.flows.context import FlowContext, Memory
from bot.flows.records_analytes import analyte_name
from bot.flows.records_screens import (
    chart_labels,
    document_labels,
    document_rows,
    export_rows,
    file_note,
    home_text,
    journal_text,
    list_id,
    list_rows,
    list_text,
    pdf_labels,
    people_rows,
    period_name,
    plain_section_name,
    refusal,
    sections_rows,
    trend_rows,
)
from bot.flows.requester import requester_of
from bot.flows.screens import FileOut, Placement, Screen
from bot.logs import log_event, pseudonym
from bot.services import people as people_service
from bot.services.people import REMEMBERED_PERSON_KEY, AccessRefused, Person
from bot.services.records.browse import RecordDesk, is_own, moscow_today
from bot.services.records.chart import patient_target, trend_png
from bot.services.records.filenames import file_name
from bot.services.records.pdf import export_pdf
from bot.services.records.periods import Period
from bot.services.records.split import split_html
from bot.services.records.view import document_view, short_day_text

logger = logging.getLogger(__name__)

NAV_KEY = "records_nav"
"""Memory: the list being paged ("person:section:period"), its page cursors and the page on
show (a document's "back to the list" returns to that page)."""

EXPORT_FILE = "EMK"
"""The export's file name starts so (электронная медицинская карта), in every language."""

Say = Callable[[Sequence[Screen]], Awaitable[None]]
"""Screens sent at once, before a long task (export) goes on."""


def _alert(t: FlowContext, error: AccessRefused) -> list[Screen]:
    return [Screen(refusal(t, error), placement=Placement.ALERT)]


async def _desk(t: FlowContext) -> RecordDesk:
    return RecordDesk(
        t.session,
        t.backend,
        FieldCipher(t.keys),
        t.user,
        await requester_of(t),
        t.settings.backend.backend_timeout_seconds,
        t.clock,
    )


def _label(t: FlowContext, row: LinkedPerson) -> str:
    return people_service.to_person(FieldCipher(t.keys), row).label


async def _eligible(t: FlowContext) -> list[Person]:
    people = await people_service.list_people(t.session, FieldCipher(t.keys), t.user, t.clock())
    return people_service.whose_card(people, None, Scope.RECORDS).choices


async def _home(t: FlowContext, row: LinkedPerson) -> Screen:
    others = len(await _eligible(t)) > 1
    rows = sections_rows(t, row.id, is_own(row), others)
    return Screen(home_text(t, _label(t, row)), rows, protect=True)


def _picker(t: FlowContext, choices: Sequence[Person]) -> Screen:
    return Screen(
        t.gettext("Whose medical record?"), people_rows([(p.id, p.label) for p in choices])
    )


async def _back_to_list(memory: Memory, person_id: int, section: Section) -> str:
    """The list a document (or its trend) was opened from: the page and period the user was on
    when it is this person's list of this section, else the section's first page."""
    nav = (await memory.get_data()).get(NAV_KEY)
    if isinstance(nav, dict) and isinstance(nav.get("k"), str):
        p, s, f = [*nav["k"].split(":"), "", "", ""][:3]
        page = nav.get("n")
        if p == str(person_id) and s == section.value and isinstance(page, int):
            try:
                return list_id(person_id, section, Period(f), max(0, page))
            except ValueError:
                pass
    return list_id(person_id, section, Period.ALL, 0)


def _chunks(chunks: Sequence[str], last: Screen) -> list[Screen]:
    """Medical text as protected messages (already split to fit); the buttons go on the last."""
    screens = [Screen(chunk, protect=True) for chunk in chunks[:-1]]
    return [*screens, Screen(chunks[-1], last.rows, protect=True)] if chunks else screens


# --- entry: whose card ----------------------------------------------------------------------


async def open_records(t: FlowContext, memory: Memory) -> list[Screen]:
    """/records or the menu: a menu tap ends whatever flow was open; the chosen person stays."""
    _ = t.gettext
    remembered = (await memory.get_data()).get(REMEMBERED_PERSON_KEY)
    await memory.clear()
    await memory.update_data({REMEMBERED_PERSON_KEY: remembered})
    people = await people_service.list_people(t.session, FieldCipher(t.keys), t.user, t.clock())
    choice = people_service.whose_card(people, remembered, Scope.RECORDS)
    if choice.chosen is None and not choice.choices:
        if people:
            text = _(
                "Your access to the cards in My people covers appointments only. To see a "
                "relative's medical record, ask them to give you access to the record; your "
                "own card you can link in My people."
            )
        else:
            text = _("To see a medical record, first link your OMS policy in My people.")
        return [Screen(text)]
    if choice.chosen is None:
        return [_picker(t, choice.choices)]
    desk = await _desk(t)
    try:
        row = await desk.card(choice.chosen.id, "records.home")
    except AccessRefused as error:
        return [Screen(refusal(t, error))]
    return [await _home(t, row)]


async def home(t: FlowContext, memory: Memory, person_id: int) -> list[Screen]:
    desk = await _desk(t)
    try:
        row = await desk.card(person_id, "records.home")
    except AccessRefused as error:
        return _alert(t, error)
    await memory.update_data({REMEMBERED_PERSON_KEY: row.id})
    return [await _home(t, row)]


async def who_else(t: FlowContext) -> list[Screen]:
    """The "for whom" picker again; each choice is re-checked when pressed."""
    return [_picker(t, await _eligible(t))]


# --- lists ----------------------------------------------------------------------------------


async def show_list(
    t: FlowContext,
    memory: Memory,
    person_id: int,
    section: Section,
    period: Period,
    page: int,
    m: int,
) -> list[Screen]:
    """A page of a section; pressed on the list itself (`m`) it replaces that list (EDIT)."""
    nav_key = f"{person_id}:{section.value}:{period.value}"
    nav = (await memory.get_data()).get(NAV_KEY) or {}
    known = nav.get("c") if isinstance(nav, dict) and nav.get("k") == nav_key else None
    desk = await _desk(t)
    try:
        result = await desk.page(person_id, section, period, max(0, page), known)
    except AccessRefused as error:
        return _alert(t, error)
    # Opaque backend cursors only: nothing medical goes into the memory.
    await memory.update_data({NAV_KEY: {"k": nav_key, "c": result.cursors, "n": result.page}})
    captions = [
        (item.entry_id, f"{short_day_text(item.date, t.locale)} {item.title}"[:60])
        for item in result.entries.items
    ]
    text = list_text(t, _label(t, result.card), section, period, result)
    rows = list_rows(t, person_id, section, period, result.page, captions, result.has_next)
    placement = Placement.EDIT if m else Placement.NEW
    return [Screen(text, rows, placement=placement, protect=True)]


# --- one document ---------------------------------------------------------------------------


async def open_document(
    t: FlowContext, memory: Memory, person_id: int, entry_id: str
) -> list[Screen]:
    desk = await _desk(t)
    try:
        doc = await desk.document(person_id, entry_id)
    except AccessRefused as error:
        return _alert(t, error)
    view = document_view(doc, document_labels(t, doc.section), t.locale)
    trends = [(trend.code, analyte_name(t, trend.code, trend.name)) for trend in view.trends]
    back = await _back_to_list(memory, person_id, doc.section)
    rows = document_rows(t, person_id, doc.entry_id, trends, back)
    # A referral's own card books by it (issue 14): the button only for one still usable.
    rows = (*await book_by_referral_rows(t, person_id, doc.section, doc.entry_id), *rows)
    return _chunks(view.chunks, Screen("", rows))


async def document_pdf(t: FlowContext, person_id: int, entry_id: str) -> list[Screen]:
    desk = await _desk(t)
    try:
        row, doc, data = await desk.pdf(person_id, entry_id)
        patient = await desk.patient(row)
    except AccessRefused as error:
        return _alert(t, error)
    what = plain_section_name(t, doc.section.value)
    name = file_name(what, patient.display_name, doc.date.isoformat(), "pdf")
    # A file to keep: sent saveable (not protected), with a word that it is medical.
    return [Screen(file_note(t), file=FileOut(name, data, "application/pdf"))]


async def trend(
    t: FlowContext, memory: Memory, person_id: int, code: str, entry_id: str
) -> list[Screen]:
    desk = await _desk(t)
    try:
        history = await desk.history(person_id, code)
    except AccessRefused as error:
        return _alert(t, error)
    count = len(history.points)
    if count < 2:
        text = t.gettext("There is only one result so far: nothing to compare yet.")
        return [Screen(text, placement=Placement.POPUP)]
    labels = chart_labels(t, history)
    target = patient_target(history)
    png = await asyncio.to_thread(trend_png, history, labels, t.locale, target)
    back = await _back_to_list(memory, person_id, Section.LABS)
    caption = t.ngettext("📈 {name}: {n} result", "📈 {name}: {n} results", count).format(
        name=html.escape(labels.title), n=count
    )
    chart = FileOut(f"trend-{code}.png", png, "image/png")
    return [Screen(caption, trend_rows(t, person_id, entry_id, back), file=chart, protect=True)]


# --- export and the journal -----------------------------------------------------------------


async def export_ask(t: FlowContext, person_id: int) -> list[Screen]:
    desk = await _desk(t)
    try:
        await desk.card(person_id, "records.export")
    except AccessRefused as error:
        return _alert(t, error)
    text = t.gettext("One PDF of the whole record, with a table of contents. For which period?")
    return [Screen(text, export_rows(t, person_id))]


async def export(
    t: FlowContext,
    person_id: int,
    period: Period,
    *,
    progress: Callable[[], None] | None,
    say: Say,
) -> list[Screen]:
    """The whole record as one PDF. Up to 200 documents take longer than one answer may: the
    "preparing" popup goes out through `say` first, `progress` is called as the work goes on
    (Telegram: the backend budget's `more_time`)."""
    _ = t.gettext
    desk = await _desk(t)
    try:
        row = await desk.card(person_id, "records.export")
    except AccessRefused as error:
        return _alert(t, error)
    await say([Screen(_("Preparing the PDF…"), placement=Placement.POPUP)])
    docs = await desk.export_documents(row, period, progress=progress)
    if not docs:
        return [Screen(_("There are no documents for this period."))]
    patient = await desk.patient(row)
    labels = pdf_labels(t, patient, period)
    data = await asyncio.to_thread(export_pdf, docs, labels, t.locale)
    user = t.user
    log_event(logger, "records.exported", user=pseudonym(user.messenger_key), documents=len(docs))
    day = moscow_today(t.clock()).isoformat()
    name = file_name(EXPORT_FILE, patient.display_name, day, "pdf")
    caption = _("Medical record, {period}.").format(period=period_name(t, period))
    # A file to keep: sent saveable (not protected), with a word that it is medical.
    file = FileOut(name, data, "application/pdf")
    return [Screen(caption + "\n" + file_note(t), file=file)]


async def journal(t: FlowContext) -> list[Screen]:
    """ "Who viewed my card": the bot's own journal and the city system's access log."""
    desk = await _desk(t)
    try:
        lines, log = await desk.journal()
    except AccessRefused as error:
        return _alert(t, error)
    return [Screen(chunk, protect=True) for chunk in split_html(journal_text(t, lines, log))]
