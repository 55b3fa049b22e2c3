"""Notification texts as plain view data, rendered at send time in the recipient's language.

Only the person's label, a kind of news and a time: never values, diagnoses, doctors or
clinics (a lock screen shows the text). The buttons lead to the full data, behind the usual
access check.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from babel.dates import format_datetime

from backend_client.models import Section
from bot.services.notifications.quiet_hours import MOSCOW


class Catalog(Protocol):
    """gettext by locale (aiogram's `I18n` fits)."""

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str: ...


class Action:
    OPEN_ENTRY = "oe"
    RESCHEDULE = "rs"
    CANCEL = "cv"
    BOOK = "bk"
    WATCH_BOOK = "wb"
    WATCH_STOP = "ws"


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    action: str
    person_id: int
    ref: str


@dataclass(frozen=True, slots=True)
class NotificationView:
    text: str
    buttons: tuple[Button, ...] = ()
    protect_content: bool = True


def one_full_stop(sentence: str) -> str:
    """A sentence that ends with a name ending in an initial ("Анна С.") ends with one full
    stop, not two ("Анна С..")."""
    return sentence[:-1] if sentence.endswith("..") and not sentence.endswith("...") else sentence


class Renderer:
    """Texts for one locale, written at `now` (a date of this year is shown without it)."""

    def __init__(self, catalog: Catalog, locale: str, now: datetime) -> None:
        self._catalog = catalog
        self.locale = locale
        self.now = now

    def _(self, message: str) -> str:
        return self._catalog.gettext(message, locale=self.locale)

    def when(self, moment: datetime) -> str:
        """ "24 November, 10:20"; with the year when it is not this (Moscow) year."""
        this_year = self.now.astimezone(MOSCOW).year == moment.astimezone(MOSCOW).year
        pattern = "d MMMM, HH:mm" if this_year else "d MMMM y, HH:mm"
        return format_datetime(moment, pattern, tzinfo=MOSCOW, locale=self.locale)

    def result_ready(
        self, label: str, person_id: int, entry_id: str, section: str | None
    ) -> NotificationView:
        _ = self._
        if section == Section.LABS.value:
            text = _("🧪 A new lab result is ready for {label}.")
        else:
            text = _("📄 A new document is in the medical record of {label}.")
        button = Button(_("Open"), Action.OPEN_ENTRY, person_id, entry_id)
        return NotificationView(one_full_stop(text.format(label=html.escape(label))), (button,))

    def access_ended(self, label: str) -> NotificationView:
        text = self._(
            "🔒 Your access to the card «{label}» has ended: its owner revoked it. The bot no "
            "longer offers this card; to act on it again, ask the owner for a new code."
        ).format(label=html.escape(label))
        return NotificationView(text)

    def _visit_buttons(self, person_id: int, appointment_id: str) -> tuple[Button, ...]:
        _ = self._
        return (
            Button(_("Reschedule"), Action.RESCHEDULE, person_id, appointment_id),
            Button(_("Cancel the visit"), Action.CANCEL, person_id, appointment_id),
        )

    def reminder(
        self, label: str, person_id: int, appointment_id: str, starts_at: datetime
    ) -> NotificationView:
        text = self._("⏰ Reminder: {label} has a doctor's visit on {when}.").format(
            label=html.escape(label), when=self.when(starts_at)
        )
        return NotificationView(text, self._visit_buttons(person_id, appointment_id))

    def visit_moved(
        self,
        label: str,
        person_id: int,
        appointment_id: str,
        starts_at: datetime,
        before: datetime | None,
    ) -> NotificationView:
        _ = self._
        if before is not None:
            text = _(
                "🔁 The clinic moved the visit of {label}: it is now on {when} (was {before})."
            )
        else:
            text = _("🔁 The clinic moved the visit of {label}: it is now on {when}.")
        text = text.format(
            label=html.escape(label),
            when=self.when(starts_at),
            before=self.when(before) if before is not None else "",
        )
        text += "\n" + _("If the new time does not suit you, reschedule or cancel the visit.")
        return NotificationView(text, self._visit_buttons(person_id, appointment_id))

    def visit_cancelled(
        self, label: str, person_id: int, appointment_id: str, starts_at: datetime
    ) -> NotificationView:
        _ = self._
        text = _("❌ The clinic cancelled the visit of {label} on {when}.").format(
            label=html.escape(label), when=self.when(starts_at)
        )
        text += "\n" + _("You can book another time with the button below.")
        return NotificationView(
            text, (Button(_("Book again"), Action.BOOK, person_id, appointment_id),)
        )

    def slot_found(
        self, label: str, person_id: int, hit_id: int, starts_at: datetime, booked: bool
    ) -> NotificationView:
        _ = self._
        values = {"label": html.escape(label), "when": self.when(starts_at)}
        if booked:
            text = _("✅ A slot you watched for {label} was booked: {when}.").format(**values)
            return NotificationView(text)
        text = _("🔔 A free slot for {label} has appeared: {when}.").format(**values)
        buttons = (
            Button(_("Book it"), Action.WATCH_BOOK, person_id, str(hit_id)),
            Button(_("Stop watching"), Action.WATCH_STOP, person_id, str(hit_id)),
        )
        return NotificationView(text, buttons)
