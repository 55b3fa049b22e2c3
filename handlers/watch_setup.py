"""The questions of a new slot watch (which doctor, dates, hours, weekdays, auto-booking), as
presets with short names: what a button carries is a preset name, never a free value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from aiogram.utils.i18n import gettext as _

from backend_client.models import Doctor
from bot.services.appointments.watches import ALL_WEEKDAYS, WatchSpec
from handlers.appointment_common import Screen
from handlers.appointment_texts import doctor_lines
from keyboards.appointments import WatchStep, setup_keyboard

SETUP_KEY = "watch_setup"
"""FSM data key: the answers so far, preset names only."""

TARGETS = ("doc", "clinic", "any")
RANGES = {"7": 7, "14": 14, "30": 30}
HOURS = {"any": (0, 1440), "am": (0, 720), "pm": (720, 1020), "eve": (1020, 1440)}
DAYS = {"all": ALL_WEEKDAYS, "wd": 0b0011111, "we": 0b1100000}
MODES = {"tell": None, "a2": 120, "a24": 1440}
"""None: only tell me; a number: book by itself, not within that many minutes from now."""

ORDER = (WatchStep.TARGET, WatchStep.RANGE, WatchStep.HOURS, WatchStep.DAYS, WatchStep.MODE)
VALID = {
    WatchStep.TARGET: set(TARGETS),
    WatchStep.RANGE: set(RANGES),
    WatchStep.HOURS: set(HOURS),
    WatchStep.DAYS: set(DAYS),
    WatchStep.MODE: set(MODES),
}


def accepts(answers: dict[str, str], step: WatchStep, value: str) -> bool:
    """The step is the next unanswered one and the value one of its presets."""
    expected = next((s for s in ORDER if s.value not in answers), None)
    return step is expected and value in VALID[step]


def target_screen(doctor: Doctor) -> Screen:
    text = "\n".join(
        [_("<b>Watch for a free slot</b>"), *doctor_lines(doctor), "", _("Which doctor suits?")]
    )
    options = [
        ("doc", _("Only this doctor")),
        ("clinic", _("Any doctor of this specialty at this clinic")),
        ("any", _("Any doctor of this specialty")),
    ]
    return Screen(text, setup_keyboard(WatchStep.TARGET, options))


def next_screen(step: WatchStep) -> Screen:
    """The question after `step` was answered."""
    if step is WatchStep.TARGET:
        options = [
            ("7", _("The next 7 days")),
            ("14", _("The next 14 days")),
            ("30", _("The next 30 days")),
        ]
        return Screen(_("For which dates?"), setup_keyboard(WatchStep.RANGE, options))
    if step is WatchStep.RANGE:
        options = [
            ("any", _("Any time")),
            ("am", _("Before 12:00")),
            ("pm", _("12:00–17:00")),
            ("eve", _("After 17:00")),
        ]
        return Screen(
            _("What time of day (Moscow time)?"), setup_keyboard(WatchStep.HOURS, options)
        )
    if step is WatchStep.HOURS:
        options = [("all", _("Any day")), ("wd", _("Monday to Friday")), ("we", _("Weekends"))]
        return Screen(_("Which days of the week?"), setup_keyboard(WatchStep.DAYS, options))
    options = [
        ("tell", _("Only tell me")),
        ("a2", _("Book at once (not within the next 2 hours)")),
        ("a24", _("Book at once (not within the next 24 hours)")),
    ]
    return Screen(
        _("When a slot appears, shall I only tell you, or book it at once?"),
        setup_keyboard(WatchStep.MODE, options),
    )


@dataclass(frozen=True, slots=True)
class Target:
    person_id: int
    doctor: Doctor
    referral_id: str | None


def build_spec(target: Target, answers: dict[str, str], today: date) -> WatchSpec:
    kind = answers[WatchStep.TARGET.value]
    minute_from, minute_to = HOURS[answers[WatchStep.HOURS.value]]
    notice = MODES[answers[WatchStep.MODE.value]]
    return WatchSpec(
        person_id=target.person_id,
        specialty_code=target.doctor.specialty.code,
        doctor_id=target.doctor.doctor_id if kind == "doc" else None,
        clinic_id=target.doctor.clinic.clinic_id if kind == "clinic" else None,
        referral_id=target.referral_id,
        date_from=today,
        date_to=today + timedelta(days=RANGES[answers[WatchStep.RANGE.value]] - 1),
        minute_from=minute_from,
        minute_to=minute_to,
        weekdays=DAYS[answers[WatchStep.DAYS.value]],
        auto_book=notice is not None,
        min_notice_minutes=notice or 0,
    )
