"""The button ids of booking, My appointments and slot watches, channel-neutral.

Each id is exactly what Telegram's CallbackData factories in `keyboards/appointments.py` and
`keyboards/calendar.py` pack (`prefix:field:field`, a bool as 0/1), so buttons already in
chats keep working and a stale or forged one is refused the same way on every channel.
`parse` reads an id back for a front end without those factories (MAX); ids never carry slot
details, only short backend ids and positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from backend_client.errors import BackendError
from backend_client.models import Section
from bot.flows.screens import Button

if TYPE_CHECKING:
    from bot.flows.context import FlowContext

# WhoCb.flow: what the "for whom" answer is for.
FLOW_BOOK, FLOW_LIST, FLOW_WATCH = "b", "l", "w"
# PickCb.kind
PICK_SPECIALTY, PICK_REFERRAL, PICK_DOCTOR = "s", "r", "d"
# BookCb.action
BOOK_CONFIRM, BOOK_DAYS, BOOK_ABORT, BOOK_WATCH, BOOK_OTHER_DOCTORS = "ok", "days", "x", "w", "od"
# VisitCb.action
VISIT_VIEW, VISIT_MOVE, VISIT_CANCEL, VISIT_CANCEL_CONFIRM, VISIT_ICS = "v", "m", "c", "cc", "i"
VISIT_BY_REFERRAL = "r"  # a referral's card: book by it (the id field carries the referral)
VISIT_AGAIN = "b"  # "Book again" after the clinic cancelled: the same doctor's calendar
# CalendarCb.action: a free day, a full day (answered, nothing else), a month, inert cells.
CAL_DAY, CAL_FULL, CAL_MONTH, CAL_NOOP = "d", "f", "m", "n"

# WatchCb.action, WatchHitCb.action, WatchSetupCb.step (slot watches)
WATCH_NEW, WATCH_STOP = "n", "s"
HIT_BOOK, HIT_STOP = "book", "stop"
STEP_TARGET, STEP_RANGE, STEP_HOURS, STEP_DAYS, STEP_MODE = "t", "r", "h", "d", "m"

EVERYONE = 0
"""The person id of "everyone together" (My appointments only)."""


def who_id(flow: str, person_id: int, anew: bool = False) -> str:
    return f"aw:{flow}:{person_id}:{int(anew)}"


def pick_id(kind: str, ref: str) -> str:
    return f"ap:{kind}:{ref}"


def time_id(index: int) -> str:
    return f"at:{index}"


def book_id(action: str, token: str = "") -> str:
    return f"ab:{action}:{token}"


def visit_id(action: str, person_id: int, appointment_id: str, anew: bool = False) -> str:
    return f"av:{action}:{person_id}:{appointment_id}:{int(anew)}"


def referral_book_id(person_id: int, referral_id: str) -> str:
    """ "Book by this referral" on the referral's card (opens in a new message)."""
    return visit_id(VISIT_BY_REFERRAL, person_id, referral_id, anew=True)


async def book_by_referral_rows(
    ctx: FlowContext, person_id: int, section: Section, entry_id: str
) -> tuple[tuple[Button, ...], ...]:
    """The "📅 Book by this referral" row for a referral's card (records), when the referral is
    still active and the user may book for this person; no rows otherwise."""
    if section != Section.REFERRALS:
        return ()
    # Imported here: appointment_common imports this module's ids (through the rows).
    from bot.flows.appointment_common import acting_for
    from bot.services.people import AccessRefused

    try:
        acting = await acting_for(ctx, person_id, "book")
        referrals = await ctx.backend.list_referrals(acting.grant_id, acting.requester_id)
    except (AccessRefused, BackendError):
        return ()
    found = next((r for r in referrals if r.entry_id == entry_id), None)
    if found is None or len(referral_book_id(person_id, found.referral_id).encode()) > 64:
        return ()
    text = ctx.gettext("📅 Book by this referral")
    return ((Button(text, referral_book_id(person_id, found.referral_id)),),)


def cal_id(action: str, value: str = "") -> str:
    return f"cal:{action}:{value}"


def watch_id(action: str, watch: int = 0) -> str:
    return f"wt:{action}:{watch}"


def hit_id(hit: int, action: str) -> str:
    return f"wh:{hit}:{action}"


def setup_id(step: str, value: str) -> str:
    return f"ws:{step}:{value}"


def day_value(day: date) -> str:
    return day.strftime("%Y%m%d")


def month_value(year: int, month: int) -> str:
    return f"{year:04d}{month:02d}"


def parse_day(value: str) -> date | None:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])) if len(value) == 8 else None
    except ValueError:
        return None


def parse_month(value: str) -> tuple[int, int] | None:
    if len(value) != 6 or not value.isdigit() or not 1 <= int(value[4:]) <= 12:
        return None
    return int(value[:4]), int(value[4:])


@dataclass(frozen=True, slots=True)
class Action:
    """A parsed id: its prefix and its fields as text (the flow checks them)."""

    prefix: str
    fields: tuple[str, ...]


_ARITY = {
    "aw": (2, 3),
    "ap": (2, 2),
    "at": (1, 1),
    "ab": (1, 2),
    "av": (3, 4),
    "cal": (1, 2),
    "wt": (1, 2),
    "wh": (2, 2),
    "ws": (2, 2),
}
"""Fields per prefix (fewest, most): data packed before `n` existed has one part fewer."""


def parse(action: str) -> Action | None:
    """The prefix and fields of one of this feature's ids; None for anything else."""
    prefix, _sep, rest = action.partition(":")
    arity = _ARITY.get(prefix)
    if arity is None or not _sep:
        return None
    fields = tuple(rest.split(":"))
    if not arity[0] <= len(fields) <= arity[1]:
        return None
    return Action(prefix, fields)
