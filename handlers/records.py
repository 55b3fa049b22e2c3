"""🩺 The medical record: whose card, sections, paged lists, documents, trends, PDFs, export,
and the owner's "who viewed my card". Thin: every read goes through `RecordDesk`, which checks
the current grant first and writes the journal."""

from __future__ import annotations

import asyncio
import html
import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.types import User as TgUser
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Scope, Section
from backend_client.protocol import RecordsBackend
from bot.backend_budget import more_time
from bot.clock import Clock
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson, User
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.services import people as people_service
from bot.services.people import REMEMBERED_PERSON_KEY, AccessRefused, Person
from bot.services.records.browse import RecordDesk, is_own, moscow_today
from bot.services.records.chart import trend_png
from bot.services.records.pdf import export_pdf
from bot.services.records.periods import Period
from bot.services.records.split import split_html
from bot.services.records.view import document_view, short_day_text
from bot.settings import Settings
from handlers.access_texts import refusal_text, requester_of
from handlers.records_texts import (
    chart_labels,
    document_labels,
    home_text,
    journal_text,
    list_text,
    locale,
    pdf_labels,
    period_name,
)
from keyboards.menu import MENU_RECORDS
from keyboards.records import (
    DocAction,
    RecDocCb,
    RecExportCb,
    RecHomeCb,
    RecJournalCb,
    RecListCb,
    RecTrendCb,
    RecWhoCb,
    document_keyboard,
    export_keyboard,
    list_keyboard,
    people_keyboard,
    sections_keyboard,
    trend_keyboard,
)

router = Router(name=__name__)
logger = logging.getLogger(__name__)

NAV_KEY = "records_nav"
"""FSM data: the list being paged ("person:section:period"), its page cursors and the page on
show (a document's "back to the list" returns to that page)."""


async def _back_to_list(state: FSMContext, person_id: int, section: Section) -> RecListCb:
    """The list a document (or its trend) was opened from: the page and period the user was on
    when it is this person's list of this section, else the section's first page."""
    nav = (await state.get_data()).get(NAV_KEY)
    if isinstance(nav, dict) and isinstance(nav.get("k"), str):
        p, s, f = [*nav["k"].split(":"), "", "", ""][:3]
        page = nav.get("n")
        if p == str(person_id) and s == section.value and isinstance(page, int):
            try:
                return RecListCb(p=person_id, s=section, f=Period(f), n=max(0, page))
            except ValueError:
                pass
    return RecListCb(p=person_id, s=section, f=Period.ALL, n=0)


async def _desk(
    session: AsyncSession,
    backend: RecordsBackend,
    keys: AppKeys,
    user: User,
    settings: Settings,
    tg_user: TgUser | None,
    *,
    clock: Clock,
) -> RecordDesk:
    requester = await requester_of(session, keys, user, tg_user, clock())
    return RecordDesk(
        session,
        backend,
        FieldCipher(keys),
        user,
        requester,
        settings.backend.backend_timeout_seconds,
        clock,
    )


def _refusal(error: AccessRefused) -> str:
    if error.reason == AccessRefused.SCOPE:
        return _(
            "Your access to this card covers appointments only. The card's owner can give you "
            "access to the medical record."
        )
    return refusal_text(error)


def _label(keys: AppKeys, row: LinkedPerson) -> str:
    return people_service.to_person(FieldCipher(keys), row).label


async def _eligible(
    session: AsyncSession, keys: AppKeys, user: User, *, clock: Clock
) -> list[Person]:
    people = await people_service.list_people(session, FieldCipher(keys), user, clock())
    return people_service.whose_card(people, None, Scope.RECORDS).choices


async def _home(
    message: Message,
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    row: LinkedPerson,
    *,
    clock: Clock,
) -> None:
    others = len(await _eligible(session, keys, user, clock=clock)) > 1
    await message.answer(
        home_text(_label(keys, row)),
        reply_markup=sections_keyboard(row.id, is_own(row), others),
        protect_content=True,
    )


async def _send(
    message: Message, chunks: list[str], markup: InlineKeyboardMarkup | None = None
) -> None:
    """Medical text as protected messages (already split to fit); the buttons go on the last."""
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await message.answer(chunk, reply_markup=markup if last else None, protect_content=True)


# --- entry: whose card ----------------------------------------------------------------------


@router.message(Command("records"))
@router.message(F.text == MENU_RECORDS)
async def open_records(
    message: Message,
    clock: Clock,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    remembered = (await state.get_data()).get(REMEMBERED_PERSON_KEY)
    await state.clear()  # a menu tap ends whatever flow was open; the chosen person stays
    await state.update_data({REMEMBERED_PERSON_KEY: remembered})
    people = await people_service.list_people(session, FieldCipher(keys), user, clock())
    choice = people_service.whose_card(people, remembered, Scope.RECORDS)
    if choice.chosen is None and not choice.choices:
        if people:
            await message.answer(
                _(
                    "Your access to the cards in My people covers appointments only. To see a "
                    "relative's medical record, ask them to give you access to the record; your "
                    "own card you can link in My people."
                )
            )
        else:
            await message.answer(
                _("To see a medical record, first link your OMS policy in My people.")
            )
        return
    if choice.chosen is None:
        await message.answer(
            _("Whose medical record?"),
            reply_markup=people_keyboard([(p.id, p.label) for p in choice.choices]),
        )
        return
    desk = await _desk(session, backend, keys, user, settings, message.from_user, clock=clock)
    try:
        row = await desk.card(choice.chosen.id, "records.home")
    except AccessRefused as error:
        await message.answer(_refusal(error))
        return
    await _home(message, session, keys, user, row, clock=clock)


@router.callback_query(RecHomeCb.filter())
async def home(
    query: CallbackQuery,
    clock: Clock,
    callback_data: RecHomeCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        row = await desk.card(callback_data.p, "records.home")
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    await state.update_data({REMEMBERED_PERSON_KEY: row.id})
    await query.answer()
    if isinstance(query.message, Message):
        await _home(query.message, session, keys, user, row, clock=clock)


@router.callback_query(RecWhoCb.filter())
async def who_else(
    query: CallbackQuery, clock: Clock, session: AsyncSession, user: User, keys: AppKeys
) -> None:
    """The "for whom" picker again; each choice is re-checked when pressed."""
    choices = await _eligible(session, keys, user, clock=clock)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Whose medical record?"),
            reply_markup=people_keyboard([(p.id, p.label) for p in choices]),
        )


# --- lists ----------------------------------------------------------------------------------


@router.callback_query(RecListCb.filter())
async def show_list(
    query: CallbackQuery,
    clock: Clock,
    callback_data: RecListCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    cb = callback_data
    nav_key = f"{cb.p}:{cb.s.value}:{cb.f.value}"
    nav = (await state.get_data()).get(NAV_KEY) or {}
    known = nav.get("c") if isinstance(nav, dict) and nav.get("k") == nav_key else None
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        page = await desk.page(cb.p, cb.s, cb.f, max(0, cb.n), known)
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    # Opaque backend cursors only: nothing medical goes into FSM data.
    await state.update_data({NAV_KEY: {"k": nav_key, "c": page.cursors, "n": page.page}})
    here = locale()
    captions = [
        (item.entry_id, f"{short_day_text(item.date, here)} {item.title}"[:60])
        for item in page.entries.items
    ]
    text = list_text(_label(keys, page.card), cb.s, cb.f, page)
    markup = list_keyboard(cb.p, cb.s, cb.f, page.page, captions, page.has_next)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if cb.m:
        try:
            await query.message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as error:
            if "not modified" in str(error):  # the same page pressed again
                return
            # Otherwise (say, too old to edit) the page comes as a new message.
    await query.message.answer(text, reply_markup=markup, protect_content=True)


# --- one document ---------------------------------------------------------------------------


@router.callback_query(RecDocCb.filter(F.a == DocAction.OPEN))
async def open_document(
    query: CallbackQuery,
    clock: Clock,
    callback_data: RecDocCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        doc = await desk.document(callback_data.p, callback_data.e)
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    view = document_view(doc, document_labels(doc.section), locale())
    trends = [(t.code, t.name) for t in view.trends]
    back = await _back_to_list(state, callback_data.p, doc.section)
    markup = document_keyboard(callback_data.p, doc.entry_id, trends, back)
    await query.answer()
    if isinstance(query.message, Message):
        await _send(query.message, view.chunks, markup)


@router.callback_query(RecDocCb.filter(F.a == DocAction.PDF))
async def document_pdf(
    query: CallbackQuery,
    clock: Clock,
    callback_data: RecDocCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        data = await desk.pdf(callback_data.p, callback_data.e)
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        name = f"emk-{callback_data.e}.pdf"
        await query.message.answer_document(BufferedInputFile(data, name), protect_content=True)


@router.callback_query(RecTrendCb.filter())
async def trend(
    query: CallbackQuery,
    clock: Clock,
    callback_data: RecTrendCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        history = await desk.history(callback_data.p, callback_data.c)
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    if len(history.points) < 2:
        await query.answer(_("There is only one result so far: nothing to compare yet."))
        return
    await query.answer()
    png = await asyncio.to_thread(trend_png, history, chart_labels(history.name), locale())
    back = await _back_to_list(state, callback_data.p, Section.LABS)
    if isinstance(query.message, Message):
        await query.message.answer_photo(
            BufferedInputFile(png, f"trend-{callback_data.c}.png"),
            caption=ngettext(
                "📈 {name}: {n} result", "📈 {name}: {n} results", len(history.points)
            ).format(name=html.escape(history.name), n=len(history.points)),
            reply_markup=trend_keyboard(callback_data.p, callback_data.e, back),
            protect_content=True,
        )


# --- export and the journal -----------------------------------------------------------------


@router.callback_query(RecExportCb.filter(F.f.is_(None)))
async def export_ask(
    query: CallbackQuery,
    clock: Clock,
    callback_data: RecExportCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        await desk.card(callback_data.p, "records.export")
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("One PDF of the whole record, with a table of contents. For which period?"),
            reply_markup=export_keyboard(callback_data.p),
        )


@router.callback_query(RecExportCb.filter(F.f.is_not(None)))
async def export(
    query: CallbackQuery,
    clock: Clock,
    callback_data: RecExportCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    period = callback_data.f
    assert period is not None
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        row = await desk.card(callback_data.p, "records.export")
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    # Up to 200 documents take longer than one answer may: say so first, then take the time.
    await query.answer(_("Preparing the PDF…"))
    docs = await desk.export_documents(row, period, progress=more_time)
    if not docs:
        if isinstance(query.message, Message):
            await query.message.answer(_("There are no documents for this period."))
        return
    labels = pdf_labels(_label(keys, row), period)
    data = await asyncio.to_thread(export_pdf, docs, labels, locale())
    log_event(logger, "records.exported", user=pseudonym(user.telegram_id), documents=len(docs))
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(data, f"emk-{moscow_today(clock()).isoformat()}.pdf"),
            caption=_("Medical record, {period}.").format(period=period_name(period)),
            protect_content=True,
        )


@router.callback_query(RecJournalCb.filter())
async def journal(
    query: CallbackQuery,
    clock: Clock,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    settings: Settings,
) -> None:
    desk = await _desk(session, backend, keys, user, settings, query.from_user, clock=clock)
    try:
        lines, log = await desk.journal()
    except AccessRefused as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _send(query.message, split_html(journal_text(lines, log)))
