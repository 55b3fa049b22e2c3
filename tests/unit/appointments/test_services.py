"""The appointments services without a messenger: calendar days, watch matching and grouping,
the auto-booking notice, and the .ics file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from backend_client.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Doctor,
    Slot,
    Specialty,
)
from bot.db.appointments_models import SlotWatch
from bot.services.appointments import calendar
from bot.services.appointments.booking import BookingDraft, idempotency_key
from bot.services.appointments.calendar import DayState
from bot.services.appointments.ics import appointment_ics
from bot.services.appointments.watch_engine import group_key, query_plan
from bot.services.appointments.watches import far_enough, matches

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, 12:00 in Moscow
TODAY = date(2026, 11, 23)


def slot(slot_id: str, moscow: datetime, doctor: str = "d1", spec: str = "therapist") -> Slot:
    return Slot(
        slot_id=slot_id,
        doctor_id=doctor,
        starts_at=moscow - timedelta(hours=3) if moscow.tzinfo is None else moscow,
        duration_min=15,
        clinic_id="c1",
        specialty_code=spec,
    )


def msk(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=3)


# --- calendar -------------------------------------------------------------------------------


def test_only_days_with_free_slots_in_the_14_day_window_are_bookable() -> None:
    slots = [
        slot("s1", msk(TODAY, 15)),
        slot("s2", msk(TODAY + timedelta(days=2), 9)),
        slot("s3", msk(TODAY + timedelta(days=2), 9, 30)),
        slot("s4", msk(TODAY + timedelta(days=20), 9)),  # beyond the window
    ]
    counts = calendar.free_by_day(slots)
    view = calendar.month_view(TODAY, counts, 2026, 11)
    days = {d.day: d for week in view.weeks for d in week if d is not None}
    assert days[TODAY].state == DayState.FREE and days[TODAY].is_today
    assert days[TODAY + timedelta(days=1)].state == DayState.FULL
    assert days[TODAY + timedelta(days=2)].free == 2
    assert days[TODAY - timedelta(days=1)].state == DayState.OUTSIDE
    assert days[date(2026, 11, 30)].state == DayState.FULL  # in the window, nothing free
    # The window runs into December: navigation forward only.
    assert view.prev_month is None and view.next_month == (2026, 12)
    december = calendar.month_view(TODAY, counts, 2026, 12)
    dec_days = {d.day: d for week in december.weeks for d in week if d is not None}
    assert dec_days[date(2026, 12, 6)].state == DayState.FULL
    assert dec_days[date(2026, 12, 7)].state == DayState.OUTSIDE
    assert december.prev_month == (2026, 11) and december.next_month is None
    # Weeks start on Monday and pad with None.
    assert all(len(week) == 7 for week in view.weeks)
    assert calendar.is_bookable(TODAY, counts, TODAY + timedelta(days=2))
    assert not calendar.is_bookable(TODAY, counts, TODAY + timedelta(days=20))


def test_a_month_outside_the_window_is_clamped_into_it() -> None:
    view = calendar.month_view(TODAY, {}, 2030, 1)
    assert (view.year, view.month) == (2026, 12)


def test_the_window_across_new_year_and_a_short_february() -> None:
    # 31 December: the window runs into January of the next year; nothing free on the 31st,
    # so the calendar opens on January, and goes back to December only.
    eve = date(2026, 12, 31)
    counts = calendar.free_by_day([slot("s1", msk(date(2027, 1, 4), 9))])
    assert calendar.first_bookable_month(eve, counts) == (2027, 1)
    january = calendar.month_view(eve, counts, 2027, 1)
    assert january.prev_month == (2026, 12) and january.next_month is None
    days = {d.day: d for week in january.weeks for d in week if d is not None}
    assert days[date(2027, 1, 4)].state == DayState.FREE
    assert days[date(2027, 1, 13)].state == DayState.FULL  # the window's last day
    assert days[date(2027, 1, 14)].state == DayState.OUTSIDE
    december = calendar.month_view(eve, counts, 2026, 12)
    assert december.next_month == (2027, 1) and december.prev_month is None
    [today] = [d for week in december.weeks for d in week if d is not None and d.is_today]
    assert today.day == eve and today.state == DayState.FULL
    # 28 February of a common year: the next day is 1 March.
    feb = date(2027, 2, 28)
    march = calendar.month_view(feb, {date(2027, 3, 1): 1}, 2027, 3)
    assert march.prev_month == (2027, 2)
    assert calendar.is_bookable(feb, {date(2027, 3, 1): 1}, date(2027, 3, 1))
    assert not calendar.is_bookable(feb, {date(2027, 3, 14): 1}, date(2027, 3, 14))


def test_slots_of_a_day_in_moscow_time() -> None:
    late = slot("late", msk(TODAY, 23, 30))  # 20:30 UTC, still "today" in Moscow
    early = slot("early", msk(TODAY + timedelta(days=1), 0, 30))  # 21:30 UTC the same day
    assert calendar.slots_on([early, late], TODAY) == [late]


# --- the booking draft ----------------------------------------------------------------------


def test_a_pressed_time_must_be_one_offered() -> None:
    draft = BookingDraft(person_id=1)
    draft.offer([slot("s1", msk(TODAY, 15)), slot("s2", msk(TODAY, 16))])
    assert draft.pick(1) == "s2"
    assert draft.pick(2) is None and draft.pick(-1) is None
    token = draft.mint_token()
    key = idempotency_key(7, token)
    assert 8 <= len(key) <= 128 and key == idempotency_key(7, token)
    assert BookingDraft.from_data({"booking": draft.to_data()}) == draft
    assert BookingDraft.from_data({"booking": {"person_id": 1, "unknown": 2}}) is None


# --- watches --------------------------------------------------------------------------------


def watch(**kw: object) -> SlotWatch:
    fields: dict[str, object] = {
        "id": 1,
        "user_id": 1,
        "person_id": 1,
        "doctor_id": None,
        "specialty_code": "therapist",
        "clinic_id": None,
        "referral_id": None,
        "date_from": TODAY,
        "date_to": TODAY + timedelta(days=6),
        "minute_from": 0,
        "minute_to": 1440,
        "weekdays": 0b1111111,
        "auto_book": False,
        "min_notice_minutes": 120,
        "active": True,
    }
    fields.update(kw)
    return SlotWatch(**fields)


def test_time_of_day_window_weekdays_and_dates() -> None:
    evening = watch(minute_from=17 * 60)
    assert matches(evening, slot("a", msk(TODAY, 17)), NOW)
    assert not matches(evening, slot("b", msk(TODAY, 16, 59)), NOW)
    weekend = watch(weekdays=0b1100000)
    saturday = TODAY + timedelta(days=5)
    assert matches(weekend, slot("c", msk(saturday, 10)), NOW)
    assert not matches(weekend, slot("d", msk(TODAY + timedelta(days=1), 10)), NOW)
    assert not matches(watch(), slot("e", msk(TODAY + timedelta(days=7), 10)), NOW)  # after range
    assert not matches(watch(), slot("f", msk(TODAY, 11)), NOW)  # in the past


def test_target_doctor_or_specialty_and_clinic() -> None:
    assert matches(watch(doctor_id="d1"), slot("a", msk(TODAY, 15)), NOW)
    assert not matches(watch(doctor_id="d2"), slot("a", msk(TODAY, 15)), NOW)
    assert matches(watch(clinic_id="c1"), slot("a", msk(TODAY, 15)), NOW)
    assert not matches(watch(clinic_id="c2"), slot("a", msk(TODAY, 15)), NOW)
    assert not matches(watch(specialty_code="ent"), slot("a", msk(TODAY, 15)), NOW)


def test_one_query_per_doctor_or_specialty_and_clinic() -> None:
    watches = [watch(id=i, doctor_id=f"d{i % 3}") for i in range(30)]
    watches += [watch(id=100 + i, clinic_id="c1") for i in range(5)]
    watches += [watch(id=200, date_to=TODAY + timedelta(days=40))]  # specialty, any clinic
    plan = query_plan(watches, TODAY)
    assert len(plan) == 3 + 1 + 1
    assert group_key(watches[0]) == ("doctor", "d0", "")
    # The union of dates, never longer than the backend allows.
    start, end = plan[("specialty", "therapist", "")]
    assert start == TODAY and (end - start).days <= 31


def test_auto_booking_respects_the_minimum_notice() -> None:
    soon = slot("soon", NOW + timedelta(minutes=90))
    later = slot("later", NOW + timedelta(minutes=121))
    assert not far_enough(soon, NOW, 120)
    assert far_enough(later, NOW, 120)


# --- .ics -----------------------------------------------------------------------------------


def test_ics_is_rfc5545_with_utc_times_and_no_diagnosis() -> None:
    doctor = Doctor(
        doctor_id="d1",
        full_name="Иванова Мария Петровна",
        specialty=Specialty(code="therapist", name="Терапевт", needs_referral=False),
        clinic=Clinic(clinic_id="c1", name="ГП № 3; филиал", address="ул. Ленина, д. 1"),
        cabinet="101",
    )
    visit = Appointment(
        appointment_id="a1b2c3",
        patient_id="p1",
        doctor=doctor,
        slot_id="s1",
        starts_at=msk(TODAY, 17, 30),
        duration_min=20,
        status=AppointmentStatus.BOOKED,
    )
    text = appointment_ics(visit, "Приём у врача: Терапевт", "ГП № 3; филиал, " * 5, NOW).decode()
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "UID:a1b2c3@emk-bot" in lines
    assert "DTSTART:20261123T143000Z" in lines and "DTEND:20261123T145000Z" in lines
    assert "DTSTAMP:20261123T090000Z" in lines
    assert all(len(line.encode()) <= 75 for line in lines)  # folded
    assert "\\;" in text  # TEXT escaping
    assert "VERSION:2.0" in lines and "PRODID:" in text
