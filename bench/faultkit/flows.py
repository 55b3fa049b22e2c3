"""What the scripted users do: the first conversation, linking their own card, quiet hours off
(so news is not held back at night and the suite means the same at any hour), booking a visit,
and the probes they repeat while a fault is on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from faultkit.sandbox import SandboxCli
from faultkit.users import Action, NoButton, ScriptedUser

MENU_VISITS = "🗓 My appointments"
MENU_RECORDS = "🩺 Medical record"
MENU_PEOPLE = "👨‍👩‍👧 My people"
MENU_BOOK = "📅 Book a doctor"
MENU_NOTIFICATIONS = "🔔 Notifications"


async def onboard(user: ScriptedUser) -> None:
    await user.step(lambda: user.send_text("/start"), "/start")
    await user.step(lambda: user.press("🇬🇧 English"), "language")
    await user.step(lambda: user.press("✅ I agree"), "consent")


async def link_up_to_code(user: ScriptedUser, cli: SandboxCli) -> str:
    """My people -> my own policy -> phone -> policy -> birth date; returns the SMS code,
    not yet typed."""
    await user.step(lambda: user.press(MENU_PEOPLE), "my people")
    await user.step(lambda: user.press("➕ My own policy"), "own policy")
    if "📱 Share my phone number" in user.driver.reply_keyboard:
        await user.step(lambda: user.press("📱 Share my phone number"), "share phone")
    await user.step(lambda: user.send_text(user.persona.policy), "policy")
    await user.step(lambda: user.send_text(user.persona.birth_date), "birth date")
    return await cli.code_for(user.persona.phone)


LINKED = "your medical card is linked"


async def link_own_card(user: ScriptedUser, cli: SandboxCli) -> None:
    code = await link_up_to_code(user, cli)
    await user.step(lambda: user.send_text(code, label="text <code>"), "code")
    if LINKED not in user.last_text():
        raise RuntimeError(f"{user.name}: the card was not linked: {user.last_text()[:80]!r}")


async def quiet_hours_off(user: ScriptedUser) -> None:
    await user.step(lambda: user.press(MENU_NOTIFICATIONS), "notifications")
    await user.step(
        lambda: user.press_where(lambda text, _: text.startswith("🌙"), "quiet hours"),
        "quiet hours",
    )
    await user.step(lambda: user.press("Turn quiet hours off"), "quiet hours off")


async def book_a_visit(
    user: ScriptedUser,
    *,
    tries: int = 6,
    before_confirm: Callable[[], None] | None = None,
    confirm_timeout: float = 30.0,
) -> bool:
    """The first doctor with a free day, its first day and time, confirmed. Bounded: False if
    no doctor on the first `tries` specialties had a free time. `before_confirm` runs just
    before the confirmation is pressed (a scenario arms its fault there); the confirmation
    itself must be answered within `confirm_timeout`."""
    for nth in range(tries):
        await user.step(lambda: user.press(MENU_BOOK), "book")
        if _has(user, "aw:b:"):
            await user.step(lambda: _tap(user, "aw:b:", 0), "for whom")
        specialties = _datas(user, "ap:s:")
        if not specialties:
            return False
        pick = nth % len(specialties)
        await user.step(partial(_tap, user, "ap:s:", pick), "specialty")
        for doctor in range(len(_datas(user, "ap:d:"))):
            if doctor:
                await user.step(lambda: user.press(MENU_BOOK), "book")
                if _has(user, "aw:b:"):
                    await user.step(lambda: _tap(user, "aw:b:", 0), "for whom")
                await user.step(partial(_tap, user, "ap:s:", pick), "specialty")
            await user.step(partial(_tap, user, "ap:d:", doctor), "doctor")
            if _has(user, "cal:d:"):
                await user.step(lambda: _tap(user, "cal:d:", 0), "day")
                if _has(user, "at:"):
                    await user.step(lambda: _tap(user, "at:", 0), "time")
                    if _has(user, "ab:ok:"):
                        if before_confirm is not None:
                            before_confirm()
                        if not await user.do(
                            lambda: _tap(user, "ab:ok:", 0), timeout=confirm_timeout
                        ):
                            raise RuntimeError(f"{user.name}: no answer to the confirmation")
                        return True
            if doctor >= 2:
                break
    return False


def _datas(user: ScriptedUser, prefix: str) -> list[str]:
    for message in reversed(user.messages):
        found = [
            str(b.get("callback_data"))
            for row in message.inline_keyboard
            for b in row
            if str(b.get("callback_data", "")).startswith(prefix)
        ]
        if found:
            return found
    return []


def _has(user: ScriptedUser, prefix: str) -> bool:
    return bool(_datas(user, prefix))


def _tap(user: ScriptedUser, prefix: str, nth: int) -> Action:
    data = _datas(user, prefix)
    if len(data) <= nth:
        raise NoButton(f"{user.name}: no {nth}-th button {prefix!r}")
    chosen = data[nth]
    return user.press_where(lambda _, d: d == chosen, prefix)


# ----- probes: repeated while a fault is on -------------------------------------------------


@dataclass(frozen=True)
class Probe:
    name: str
    make: Callable[[ScriptedUser], Action]


def _records_section(user: ScriptedUser) -> Action:
    """A section of the medical record (a button on the record's home screen)."""
    return user.press_where(lambda _, data: data.startswith("rl:"), "record section", probe=True)


PROBES: tuple[Probe, ...] = (
    Probe("visits", lambda u: u.send_text(MENU_VISITS, probe=True)),
    Probe("records", lambda u: u.send_text(MENU_RECORDS, probe=True)),
    Probe("record-section", _records_section),
)


async def probe_loop(
    user: ScriptedUser, stop: asyncio.Event, *, think_s: float = 0.5, max_actions: int = 400
) -> None:
    """Cycle through the probes until `stop`; each waits for its answer (bounded)."""
    for index in range(max_actions):
        if stop.is_set():
            return
        probe = PROBES[index % len(PROBES)]
        try:
            action = probe.make(user)
        except NoButton:
            action = PROBES[1].make(user)  # the record's home brings the buttons back
        await user.settle(action)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), think_s)
