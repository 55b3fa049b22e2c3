"""Notification settings, channel-neutral: a switch per kind, quiet hours, reminder times.

Every press answers with the page it leads to, in place of the pressed one (`Placement.EDIT`);
a forged or stale value is an alert and changes nothing. Button ids are `ns:<action>:<value>`,
what Telegram's `NotifySetCb` packs (a test keeps them equal), so buttons already in chats
keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

from babel.dates import format_timedelta

from bot.flows.context import FlowContext
from bot.flows.screens import Button, Placement, Screen, column
from bot.services.notifications import settings as prefs_service
from bot.services.notifications.kinds import Switch
from bot.services.notifications.settings import OFFSET_CHOICES, QUIET_CHOICES, Prefs

Gettext = Callable[[str], str]
PREFIX = "ns"


class SetAction(StrEnum):
    HOME = "h"
    SWITCH = "s"
    QUIET = "q"
    QUIET_TOGGLE = "qt"
    QUIET_START = "qs"
    QUIET_END = "qe"
    OFFSETS = "o"
    OFFSET_TOGGLE = "ot"


def action_id(action: SetAction, value: str = "") -> str:
    return f"{PREFIX}:{action.value}:{value}"


def _mark(on: bool) -> str:
    return "✅" if on else "▫️"


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def offset_name(minutes: int, locale: str) -> str:
    return format_timedelta(timedelta(minutes=minutes), threshold=1.0, locale=locale)


def switch_names(_: Gettext) -> dict[Switch, str]:
    return {
        Switch.RESULTS: _("New results"),
        Switch.REMINDERS: _("Visit reminders"),
        Switch.CHANGES: _("Clinic changes to visits"),
        Switch.SLOTS: _("Free slots for my watches"),
    }


def _back(_: Gettext) -> tuple[Button, ...]:
    return (Button(_("⬅️ Back"), action_id(SetAction.HOME)),)


def home_screen(prefs: Prefs, _: Gettext, locale: str) -> Screen:
    text = _(
        "<b>🔔 Notifications</b>\n"
        "Choose what the bot tells you about: for your own card and for the people you "
        "manage. Results come only for cards where you may view the record.\n\n"
        "During quiet hours the bot waits with news; visit reminders are sent before the "
        "quiet hours start, and clinic cancellations come at once."
    )
    buttons = [
        Button(
            f"{_mark(bool(getattr(prefs, switch.value)))} {name}",
            action_id(SetAction.SWITCH, switch.value),
        )
        for switch, name in switch_names(_).items()
    ]
    quiet = prefs.quiet
    quiet_text = (
        _("🌙 Quiet hours: {start}–{end}").format(start=hhmm(quiet.start), end=hhmm(quiet.end))
        if quiet.enabled
        else _("🌙 Quiet hours: off")
    )
    buttons.append(Button(quiet_text, action_id(SetAction.QUIET)))
    offsets = ", ".join(offset_name(m, locale) for m in prefs.offsets) or _("none")
    buttons.append(
        Button(
            _("⏰ Remind before a visit: {offsets}").format(offsets=offsets),
            action_id(SetAction.OFFSETS),
        )
    )
    return Screen(text, column(*buttons), placement=Placement.EDIT)


def quiet_screen(prefs: Prefs, _: Gettext, choosing: SetAction | None = None) -> Screen:
    quiet = prefs.quiet
    if choosing in (SetAction.QUIET_START, SetAction.QUIET_END):
        start = choosing is SetAction.QUIET_START
        current, other = (quiet.start, quiet.end) if start else (quiet.end, quiet.start)
        times = [
            Button(
                f"{'• ' if minute == current else ''}{hhmm(minute)}",
                action_id(choosing, str(minute)),
            )
            for minute in QUIET_CHOICES
            if minute != other  # start = end would be no quiet hours: that is the off switch
        ]
        rows = tuple(tuple(times[i : i + 6]) for i in range(0, len(times), 6))
        prompt = _("When do quiet hours start?") if start else _("When do quiet hours end?")
        return Screen(prompt, (*rows, _back(_)), placement=Placement.EDIT)
    toggle = _("Turn quiet hours off") if quiet.enabled else _("Turn quiet hours on")
    rows = (
        (Button(toggle, action_id(SetAction.QUIET_TOGGLE)),),
        (
            Button(
                _("Start: {time}").format(time=hhmm(quiet.start)), action_id(SetAction.QUIET_START)
            ),
            Button(_("End: {time}").format(time=hhmm(quiet.end)), action_id(SetAction.QUIET_END)),
        ),
        _back(_),
    )
    text = _(
        "<b>🌙 Quiet hours</b> (Moscow time)\n"
        "News waits until they end; visit reminders that would fall inside them are sent "
        "before they start."
    )
    return Screen(text, rows, placement=Placement.EDIT)


def offsets_screen(prefs: Prefs, _: Gettext, locale: str) -> Screen:
    choices = [
        Button(
            f"{_mark(minutes in prefs.offsets)} {offset_name(minutes, locale)}",
            action_id(SetAction.OFFSET_TOGGLE, str(minutes)),
        )
        for minutes in OFFSET_CHOICES
    ]
    rows = tuple(tuple(choices[i : i + 2]) for i in range(0, len(choices), 2))
    text = _(
        "<b>⏰ Visit reminders</b>\n"
        "When to remind you before each visit (up to four times). Turn all off to get no "
        "reminders."
    )
    return Screen(text, (*rows, _back(_)), placement=Placement.EDIT)


async def home(ctx: FlowContext) -> list[Screen]:
    prefs = await prefs_service.load_prefs(ctx.session, ctx.user.id)
    return [home_screen(prefs, ctx.gettext, ctx.locale)]


def _stale(_: Gettext) -> list[Screen]:
    return [Screen(_("This button is out of date."), placement=Placement.ALERT)]


async def press(ctx: FlowContext, action: SetAction, value: str) -> list[Screen]:
    """A press on a settings button: the change (if any) is saved, then the page it leads to."""
    _, session, user_id, now = ctx.gettext, ctx.session, ctx.user.id, ctx.clock()
    try:
        if action is SetAction.SWITCH:
            prefs = await prefs_service.toggle_switch(session, user_id, Switch(value), now=now)
        elif action is SetAction.QUIET_TOGGLE:
            prefs = await prefs_service.toggle_quiet(session, user_id, now=now)
        elif action in (SetAction.QUIET_START, SetAction.QUIET_END) and value:
            start = action is SetAction.QUIET_START
            prefs = await prefs_service.set_quiet_bound(
                session, user_id, start=start, minute=int(value), now=now
            )
            action = SetAction.QUIET
        elif action is SetAction.OFFSET_TOGGLE:
            prefs = await prefs_service.toggle_offset(session, user_id, int(value), now=now)
        else:
            prefs = await prefs_service.load_prefs(session, user_id)
    except prefs_service.EmptyQuietHours:
        text = _("Quiet hours cannot start and end at the same time. To have none, turn them off.")
        return [Screen(text, placement=Placement.ALERT)]
    except ValueError:  # a forged kind, minute or offset
        return _stale(_)
    if action in (SetAction.QUIET, SetAction.QUIET_TOGGLE):
        return [quiet_screen(prefs, _)]
    if action in (SetAction.QUIET_START, SetAction.QUIET_END):
        return [quiet_screen(prefs, _, action)]
    if action in (SetAction.OFFSETS, SetAction.OFFSET_TOGGLE):
        return [offsets_screen(prefs, _, ctx.locale)]
    return [home_screen(prefs, _, ctx.locale)]
