"""The questions of a new slot watch (which doctor, dates, hours, weekdays, auto-booking), as
presets with short names: what a button carries is a preset name, never a free value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from backend_client.models import Doctor
from bot.flows import booking_actions as ids
from bot.flows.appointment_common import step
from bot.flows.appointment_texts import Tr, doctor_lines
from bot.flows.screens import Button, Screen, column
from bot.services.appointments.watches import ALL_WEEKDAYS, WatchSpec

SETUP_KEY = "watch_setup"
"""Memory: the answers so far, preset names only."""

TARGETS = ("doc", "clinic", "any")
RANGES = {"7": 7, "14": 14, "30": 30}
HOURS = {"any": (0, 1440), "am": (0, 720), "pm": (720, 1020), "eve": (1020, 1440)}
DAYS = {"all": ALL_WEEKDAYS, "wd": 0b0011111, "we": 0b1100000}
MODES = {"tell": None, "a2": 120, "a24": 1440}
"""None: only tell me; a number: book by itself, not within that many minutes from now."""

ORDER = (ids.STEP_TARGET, ids.STEP_RANGE, ids.STEP_HOURS, ids.STEP_DAYS, ids.STEP_MODE)
VALID: dict[str, set[str]] = {
    ids.STEP_TARGET: set(TARGETS),
    ids.STEP_RANGE: set(RANGES),
    ids.STEP_HOURS: set(HOURS),
    ids.STEP_DAYS: set(DAYS),
    ids.STEP_MODE: set(MODES),
}


def accepts(answers: dict[str, str], answered: str, value: str) -> bool:
    """The step is the next unanswered one and the value one of its presets."""
    expected = next((s for s in ORDER if s not in answers), None)
    return answered == expected and value in VALID[answered]


def _question(t: Tr, text: str, answering: str, options: list[tuple[str, str]]) -> Screen:
    """(value, text) per option of one set-up step, and the way out."""
    buttons = [Button(label, ids.setup_id(answering, value)) for value, label in options]
    abort = Button(t.gettext("✖ Cancel"), ids.book_id(ids.BOOK_ABORT))
    return step(text, column(*buttons, abort))


def target_screen(t: Tr, doctor: Doctor) -> Screen:
    _ = t.gettext
    text = "\n".join(
        [_("<b>Watch for a free slot</b>"), *doctor_lines(t, doctor), "", _("Which doctor suits?")]
    )
    options = [
        ("doc", _("Only this doctor")),
        ("clinic", _("Any doctor of this specialty at this clinic")),
        ("any", _("Any doctor of this specialty")),
    ]
    return _question(t, text, ids.STEP_TARGET, options)


def next_screen(t: Tr, answered: str) -> Screen:
    """The question after `answered` was answered."""
    _ = t.gettext
    if answered == ids.STEP_TARGET:
        options = [
            ("7", _("The next 7 days")),
            ("14", _("The next 14 days")),
            ("30", _("The next 30 days")),
        ]
        return _question(t, _("For which dates?"), ids.STEP_RANGE, options)
    if answered == ids.STEP_RANGE:
        options = [
            ("any", _("Any time")),
            ("am", _("Before 12:00")),
            ("pm", _("12:00–17:00")),
            ("eve", _("After 17:00")),
        ]
        return _question(t, _("What time of day (Moscow time)?"), ids.STEP_HOURS, options)
    if answered == ids.STEP_HOURS:
        options = [("all", _("Any day")), ("wd", _("Monday to Friday")), ("we", _("Weekends"))]
        return _question(t, _("Which days of the week?"), ids.STEP_DAYS, options)
    options = [
        ("tell", _("Only tell me")),
        ("a2", _("Book at once (not within the next 2 hours)")),
        ("a24", _("Book at once (not within the next 24 hours)")),
    ]
    return _question(
        t,
        _("When a slot appears, shall I only tell you, or book it at once?"),
        ids.STEP_MODE,
        options,
    )


@dataclass(frozen=True, slots=True)
class Target:
    person_id: int
    doctor: Doctor
    referral_id: str | None


def build_spec(target: Target, answers: dict[str, str], today: date) -> WatchSpec:
    kind = answers[ids.STEP_TARGET]
    minute_from, minute_to = HOURS[answers[ids.STEP_HOURS]]
    notice = MODES[answers[ids.STEP_MODE]]
    return WatchSpec(
        person_id=target.person_id,
        specialty_code=target.doctor.specialty.code,
        doctor_id=target.doctor.doctor_id if kind == "doc" else None,
        clinic_id=target.doctor.clinic.clinic_id if kind == "clinic" else None,
        referral_id=target.referral_id,
        date_from=today,
        date_to=today + timedelta(days=RANGES[answers[ids.STEP_RANGE]] - 1),
        minute_from=minute_from,
        minute_to=minute_to,
        weekdays=DAYS[answers[ids.STEP_DAYS]],
        auto_book=notice is not None,
        min_notice_minutes=notice or 0,
    )
