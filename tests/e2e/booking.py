"""Booking steps of the e2e tests: the buttons a person sees and taps, and a doctor and a day
that are bookable at the moment the test runs.

Which doctor has free times, and on which days, depends on that moment (a fully booked doctor,
a weekend, the last days of a month, where the calendar's first page holds a day or two): the
steps ask the sandbox (``tests.sandbox_fixtures.free_times``) instead of taking the first doctor
and the first page's days on trust.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any, Protocol, cast

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.emulator import UserDriver
from bot.emulator.models import StoredMessage
from keyboards.appointments import PickCb
from tests.e2e.channels import Person, TelegramPerson
from tests.sandbox_fixtures import free_a_time, free_times

BOOK = "📅 Book a doctor"


class Tapper(Protocol):
    """A person on either messenger (`tests.e2e.channels.Person`) or a Telegram driver."""

    async def press(self, text: str) -> object: ...

    async def press_data(self, ref: Any, data: str) -> Any: ...

    def describe_buttons(self) -> str: ...


def with_button(user: UserDriver, prefix: str) -> tuple[StoredMessage, list[str]]:
    """The newest Telegram message with buttons whose data starts with `prefix`."""
    message_id, found = TelegramPerson(user).with_button(prefix)
    return next(m for m in user.messages if m.message_id == message_id), found


def _buttons(user: Tapper, prefix: str) -> tuple[Any, list[str]]:
    """As `with_button`, on either messenger: the message's reference (what `press_data`
    takes) and the buttons' data."""
    person = TelegramPerson(user) if isinstance(user, UserDriver) else cast(Person, user)
    return person.with_button(prefix)


async def tap(user: Tapper, prefix: str, nth: int = 0) -> Any:
    ref, found = _buttons(user, prefix)
    assert len(found) > nth, f"no {nth}-th button {prefix!r} in {found}"
    return await user.press_data(ref, found[nth])


async def tap_on(user: Tapper, prefix: str, part: str) -> Any:
    """Tap the button whose data starts with `prefix` and contains `part` (e.g. a visit id)."""
    ref, found = _buttons(user, prefix)
    mine = [data for data in found if part in data]
    assert mine, f"no button {prefix!r} with {part!r} in {found}"
    return await user.press_data(ref, mine[0])


async def to_calendar(
    user: Tapper,
    sandbox: SandboxBackend,
    clock: FrozenClock,
    what: str = "ap:s:",
    who: int | None = None,
    from_day: date | None = None,
) -> None:
    """Book a doctor → (the `who`-th person) → the first specialty or referral (`what`: a prefix
    of its button) with a doctor who has a free time (on `from_day` or later) → that doctor's
    calendar. Should no doctor on offer have one, an outsider's slot is freed, as a clinic
    would."""
    for nth in itertools.count():
        await user.press(BOOK)
        if who is not None:
            await tap(user, "aw:b:", who)
        _, options = _buttons(user, what)
        await tap(user, what, nth % len(options))
        ref, doctors = _buttons(user, "ap:d:")
        chosen = None
        for data in doctors:
            if await free_times(sandbox, PickCb.unpack(data).ref, clock(), from_day):
                chosen = data
                break
        if chosen is None and nth + 1 >= len(options):
            chosen = doctors[0]
            await free_a_time(sandbox, PickCb.unpack(chosen).ref, clock(), from_day)
        if chosen is not None:
            await user.press_data(ref, chosen)
            return


def _last_text(user: Tapper) -> str:
    if isinstance(user, UserDriver):
        return user.last_message.text or ""
    return str(cast(Any, user).last_text)


def _day(data: str) -> date:
    """The date of a calendar day button: "cal:d:20261128"."""
    return datetime.strptime(data.rsplit(":", 1)[1], "%Y%m%d").date()


async def tap_day(user: Tapper, from_day: date | None = None) -> Any:
    """The first free day on the calendar (on `from_day` or later), turning to the next month
    when this one has none: at the end of a month the first page may hold a day or two."""
    for _turn in range(2):  # the 14-day window touches two months at most
        ref, cells = _buttons(user, "cal:")
        days = [d for d in cells if d.startswith("cal:d:")]
        fit = [d for d in days if from_day is None or _day(d) >= from_day]
        if fit:
            return await user.press_data(ref, fit[0])
        shown = {_day(d).strftime("%Y%m") for d in cells if d.startswith(("cal:d:", "cal:f:"))}
        later = [m for m in cells if m.startswith("cal:m:") and m[6:] > max(shown, default="")]
        if not later:
            break
        await user.press_data(ref, later[0])
    raise AssertionError(f"no free day from {from_day}; the user sees:\n{user.describe_buttons()}")


async def to_confirmation(
    user: Tapper,
    sandbox: SandboxBackend,
    clock: FrozenClock,
    what: str = "ap:s:",
    who: int | None = None,
    from_day: date | None = None,
) -> None:
    """`to_calendar`, then the first free day (from `from_day`) and its first time."""
    await to_calendar(user, sandbox, clock, what, who, from_day)
    await tap_day(user, from_day)
    await tap(user, "at:")
    assert "Check and confirm" in _last_text(user)


async def book_a_visit(
    user: Tapper,
    sandbox: SandboxBackend,
    clock: FrozenClock,
    policy: str,
    from_day: date | None = None,
    who: int | None = None,
) -> str:
    """Book through the bot the first free time (on `from_day` or later) of a doctor who has
    one, for the `who`-th person of "for whom" (None: the user acts for one card); returns the
    new visit's id."""
    before = {v.appointment_id for v in await sandbox.appointments_of(policy)}
    await to_confirmation(user, sandbox, clock, who=who, from_day=from_day)
    await tap(user, "ab:ok:")
    [new] = [v for v in await sandbox.appointments_of(policy) if v.appointment_id not in before]
    return new.appointment_id
