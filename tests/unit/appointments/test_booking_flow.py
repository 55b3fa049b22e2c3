"""Booking, My appointments, reschedule and cancel through the real dispatcher against a real
sandbox (one ManualClock for the bot and the backend)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from backend_client.models import Appointment, AppointmentStatus
from backend_client.sandbox import SandboxBackend
from bot.db.engine import SessionMaker
from keyboards.policies import ScopeChoice
from tests.recording_bot import RecordingSession
from tests.unit.appointments.support import (
    BOOK,
    VISITS,
    alerts_since,
    data_of,
    doctor_with_free_time,
    fsm,
    outsider_grant,
    people_rows,
    screen,
    tap,
    tap_on,
    to_calendar,
    to_confirmation,
)
from tests.unit.policies_support import Chat, persona
from tests.unit.records_support import buttons, file_bytes

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


def today_marked(calendar: Any) -> bool:
    """Today's cell is marked with brackets: "[28]"."""
    return any(text.startswith("[") for text, _d in buttons(calendar))


async def visit_ids(backend: SandboxBackend, policy: str) -> set[str]:
    return {v.appointment_id for v in await backend.appointments_of(policy)}


async def new_visits(backend: SandboxBackend, policy: str, before: set[str]) -> list[Appointment]:
    """Visits made since `before` (the personas come with a history of their own)."""
    return [v for v in await backend.appointments_of(policy) if v.appointment_id not in before]


# --- booking for myself ---------------------------------------------------------------------


async def test_book_for_myself_with_calendar_confirmation_and_ics(
    chat_for, backend: SandboxBackend
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6001, "Олег")
    await me.link_own(backend, oleg)
    before = await visit_ids(backend, oleg.policy)

    await me.text(BOOK)
    choices = screen(me)
    assert "специальность" in choices.text
    assert "Терапевт" in [text for text, _d in buttons(choices)]
    await tap(me, "ap:s:")
    assert all(" · " in text for text, d in buttons(screen(me)) if d.startswith("ap:d:"))
    await to_calendar(me, backend)
    calendar = screen(me)
    assert "Выберите день" in calendar.text and "Адрес:" in calendar.text
    if not today_marked(calendar):  # the first free day is next month: look back at this one
        await tap(me, "cal:m:")
        assert today_marked(screen(me))
        await tap(me, "cal:m:")
    await tap(me, "cal:d:")
    assert "выберите время" in screen(me).text
    await tap(me, "at:")
    confirm = screen(me)
    for part in (
        "Проверьте и подтвердите",
        "Пациент: ",
        "Врач:",
        "Специальность:",
        "Поликлиника:",
        "Адрес:",
        "по московскому времени",
    ):
        assert part in confirm.text, part

    await tap(me, "ab:ok:")
    assert "Запись создана" in me.last_request("editMessageText").text
    [visit] = await new_visits(backend, oleg.policy, before)
    assert visit.status is AppointmentStatus.BOOKED
    sent = me.last_request("sendDocument")
    assert not sent.protect_content  # a file to keep (issue 14, 2): saveable, said medical
    ics = file_bytes(sent).decode()
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert f"UID:{visit.appointment_id}@emk-bot" in ics
    assert visit.starts_at.strftime("DTSTART:%Y%m%dT%H%M%SZ") in ics


async def test_double_tap_on_confirm_books_once(chat_for, backend: SandboxBackend) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6002, "Олег")
    await me.link_own(backend, oleg)
    before = await visit_ids(backend, oleg.policy)
    await to_confirmation(me, backend)
    confirm = data_of(screen(me), "ab:ok:")
    since = len(me.rec.requests)
    await asyncio.gather(me.press(confirm), me.press(confirm))
    assert len(await new_visits(backend, oleg.policy, before)) == 1
    assert any("Уже сделано" in a for a in alerts_since(me.rec, since))


async def test_slot_taken_between_times_and_confirm_shows_fresh_times(
    chat_for,
    backend: SandboxBackend,
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    oleg = await persona(backend, "single")
    father = await persona(backend, "father")
    me: Chat = await chat_for(6003, "Олег")
    await me.link_own(backend, oleg)
    before = await visit_ids(backend, oleg.policy)
    await to_confirmation(me, backend)
    taken = (await fsm(dispatcher, bot_and_session[0], 6003))["booking"]["slot_id"]
    me.clock.advance(seconds=61)
    grant = await outsider_grant(backend, father, "outsider-1")
    await backend.book(grant, "outsider-1", taken, "outsider-key-1")

    since = len(me.rec.requests)
    await tap(me, "ab:ok:")
    assert any("только что заняли" in a for a in alerts_since(me.rec, since))
    fresh = me.last_request("editMessageText")
    assert "свободное время сейчас" in fresh.text or "Выберите день" in fresh.text
    assert taken not in (await fsm(dispatcher, bot_and_session[0], 6003))["booking"]["offered"]
    assert await new_visits(backend, oleg.policy, before) == []


async def test_forged_and_stale_buttons_book_nothing(chat_for, backend: SandboxBackend) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6004, "Олег")
    await me.link_own(backend, oleg)
    before = await visit_ids(backend, oleg.policy)
    await to_confirmation(me, backend)
    since = len(me.rec.requests)
    await me.press("at:57")  # a time never offered
    await me.press("ab:ok:forgedtoken")  # a confirmation never shown
    await me.press("ap:d:d999")  # a doctor not on the screen
    alerts = alerts_since(me.rec, since)
    assert len([a for a in alerts if "устарела" in a]) == 3
    assert await new_visits(backend, oleg.policy, before) == []
    # A full day answers honestly and does nothing.
    await me.press("cal:f:20300101")
    assert "нет свободного времени" in alerts_since(me.rec, since)[-1]


async def test_a_stranger_cannot_use_my_draft_or_my_person(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6008, "Олег")
    await me.link_own(backend, oleg)
    stranger: Chat = await chat_for(6009, "Чужой")
    [mine] = await people_rows(sessionmaker, 6008)
    await to_confirmation(me, backend)
    since = len(stranger.rec.requests)
    await stranger.press(f"aw:b:{mine.id}")  # my person's row id
    await stranger.press("at:0")  # a time offered to me, not to them
    await stranger.press(data_of(screen(me), "ab:ok:"))  # my confirmation button
    alerts = alerts_since(stranger.rec, since)
    assert len(alerts) == 3 and "нет в вашем списке" in alerts[0]


# --- relatives and referrals ----------------------------------------------------------------


async def test_book_for_a_relative_by_referral_with_appointments_scope(
    chat_for, backend: SandboxBackend
) -> None:
    anna = await persona(backend, "mother")
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(6005, "Анна")
    await me.link_own(backend, anna)
    await me.link_relative(backend, galina, label="Мама", scope=ScopeChoice.APPOINTMENTS)
    before = await visit_ids(backend, galina.policy)

    await me.text(BOOK)
    assert "Для кого" in me.said()
    await tap(me, "aw:b:", 1)  # the relative (own card first)
    assert "Пациент: Мама" in screen(me).text
    assert any("Направление" in text for text, _d in buttons(screen(me)))
    await to_confirmation(me, backend, "ap:r:", who=1)
    assert "Пациент: Мама" in screen(me).text
    await tap(me, "ab:ok:")
    [visit] = await new_visits(backend, galina.policy, before)
    assert visit.status is AppointmentStatus.BOOKED and visit.referral_id


# --- my appointments: reschedule and cancel -------------------------------------------------


async def test_reschedule_then_cancel_from_my_appointments(
    chat_for, backend: SandboxBackend
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6006, "Олег")
    await me.link_own(backend, oleg)
    before = await visit_ids(backend, oleg.policy)
    await to_confirmation(me, backend)
    await tap(me, "ab:ok:")
    [first] = await new_visits(backend, oleg.policy, before)

    await me.text(VISITS)
    assert "Предстоящие" in screen(me).text
    await tap_on(me, "av:v:", first.appointment_id)  # the persona has visits of their own
    assert "🔁 Перенести" in [text for text, _d in buttons(screen(me))]
    await tap(me, "av:m:")
    await tap(me, "cal:d:")
    await tap(me, "at:")  # the booked time is not free: any time offered is another one
    assert "Перенести запись?" in screen(me).text
    await tap(me, "ab:ok:")
    assert "Запись перенесена" in me.last_request("editMessageText").text
    [moved] = await new_visits(backend, oleg.policy, before)
    assert moved.appointment_id == first.appointment_id
    assert moved.starts_at != first.starts_at and moved.previous_starts_at == first.starts_at

    await me.text(VISITS)
    await tap_on(me, "av:v:", first.appointment_id)
    await tap(me, "av:c:")
    assert "Отменить эту запись?" in screen(me).text
    confirm = data_of(screen(me), "av:cc:")
    await me.press(confirm)
    [cancelled] = await new_visits(backend, oleg.policy, before)
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert "Запись отменена" in me.last_request("editMessageText").text
    # The old cancel button again: an honest answer, nothing else happens.
    since = len(me.rec.requests)
    await me.press(confirm)
    assert any("уже отменена" in a for a in alerts_since(me.rec, since))


async def test_another_patients_appointment_cannot_be_cancelled(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    oleg = await persona(backend, "single")
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(6007, "Олег")
    await me.link_own(backend, oleg)
    [own_row] = await people_rows(sessionmaker, 6007)
    theirs = [a for a in await backend.appointments_of(anna.policy) if a.is_active]
    assert theirs
    since = len(me.rec.requests)
    await me.press(f"av:cc:{own_row.id}:{theirs[0].appointment_id}")
    assert alerts_since(me.rec, since)
    after = {a.appointment_id: a for a in await backend.appointments_of(anna.policy)}
    assert after[theirs[0].appointment_id].is_active


async def test_reschedule_to_another_doctor_of_the_same_specialty(
    chat_for, backend: SandboxBackend
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6010, "Олег")
    await me.link_own(backend, oleg)
    before = await visit_ids(backend, oleg.policy)
    await to_confirmation(me, backend, "ap:s:therapist")
    await tap(me, "ab:ok:")
    [first] = await new_visits(backend, oleg.policy, before)

    await me.text(VISITS)
    await tap_on(me, "av:v:", first.appointment_id)
    await tap(me, "av:m:")
    await tap(me, "ab:od")
    other = await doctor_with_free_time(me, backend, but_not=first.doctor.doctor_id)
    assert other is not None, "no other therapist has a free time"
    await me.press(other)
    await tap(me, "cal:d:")
    await tap(me, "at:")
    await tap(me, "ab:ok:")
    [moved] = await new_visits(backend, oleg.policy, before)
    assert moved.appointment_id == first.appointment_id
    assert moved.doctor.doctor_id != first.doctor.doctor_id
    assert moved.doctor.specialty.code == "therapist"


async def test_calendar_month_navigation_and_inert_cells(chat_for, backend: SandboxBackend) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6011, "Олег")
    await me.link_own(backend, oleg)
    await me.text(BOOK)
    await tap(me, "ap:s:")
    await tap(me, "ap:d:")
    calendar = screen(me)
    since = len(me.rec.requests)
    await me.press(data_of(calendar, "cal:n"))  # a weekday header: nothing happens
    assert len(me.rec.requests) == since + 1  # just the answer to the tap
    months = [d for _t, d in buttons(calendar) if d.startswith("cal:m:")]
    if months:  # the 14-day window runs into the next or previous month
        await me.press(months[0])
        assert "Выберите день" in me.last_request("editMessageText").text
    await me.press("cal:m:209913")  # a forged month
    assert "устарела" in alerts_since(me.rec, since)[-1]
    await me.press("cal:d:20991231")  # a day outside the window
    assert "устарела" in alerts_since(me.rec, since)[-1]
