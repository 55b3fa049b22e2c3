"""The fault suite's Telegram faults: 429 / 500 bursts on replies and on notifications, and
button presses faster than the flood limit."""

from __future__ import annotations

import asyncio

from faultkit import report
from faultkit.flows import MENU_RECORDS, MENU_VISITS
from faultkit.suite import CLOCK, Suite
from faultkit.telegram import SEND_METHODS
from faultkit.topology import REPLICAS, WORKERS
from faultkit.users import ScriptedUser


async def telegram_replies(suite: Suite, status: int, per_chat: int) -> None:
    """Telegram refuses the next `per_chat` replies to every user (429 retry_after=2, or
    500): the reply must get through within the 5 s budget, or the user is told."""
    name = f"telegram-{status}x{per_chat}-replies"
    async with suite.scenario(name, probing=False) as window:
        # What each user's "My appointments" says on a good day, to tell the reply itself
        # from "could not be sent" below.
        healthy = await asyncio.gather(*(_visits_text(u) for u in suite.users))
        faults = suite.telegram.faults
        faults.arm(
            status=status,
            per_chat=per_chat,
            chats=[u.chat_id for u in suite.users],
            sources=REPLICAS,
            retry_after=2,
        )
        try:
            seen = await asyncio.gather(*(_visits_text(u) for u in suite.users))
        finally:
            left = faults.left()
            faults.disarm()
        got = sum(1 for a, b in zip(healthy, seen, strict=True) if a is not None and a == b)
        told = sum(1 for text in seen if text is not None) - got
        window.notes.append(
            f"failed on purpose={per_chat * len(suite.users) - left} "
            f"got the reply={got} told it failed={told}"
        )
        if any(text is None for text in seen):
            window.failures.append("a user got no answer")


async def _visits_text(user: ScriptedUser) -> str | None:
    """Opens "My appointments"; the first message that came back, None if none did."""
    action = user.send_text(MENU_VISITS, probe=True)
    if not await user.settle(action):
        return None
    texts = [c.text for c in user.replies_since(action) if c.visible and c.text]
    return texts[0] if texts else None


async def telegram_notifications(suite: Suite) -> None:
    """Telegram answers 429 (retry_after=2) twice, then 500 twice, to every notification:
    the workers retry; each result arrives once."""
    async with suite.scenario("telegram-429-500-notifications") as window:
        faults = suite.telegram.faults
        chats = [u.chat_id for u in suite.users]
        for status in (429, 500):
            faults.arm(
                status=status,
                per_chat=2,
                chats=chats,
                sources=WORKERS,
                methods=SEND_METHODS,
                retry_after=2,
            )
        try:
            for user in suite.users:
                suite.publish_result(window, user)
            if not await suite.notifications_settled(40):
                window.notes.append("notifications still undelivered after 40 s")
        finally:
            left = faults.left()
            faults.disarm()
        window.notes.append(f"failed on purpose={4 * len(chats) - left}")


async def flood(suite: Suite) -> None:
    """Presses faster than the flood limit (3 a second): each press is answered once, a
    dropped one with words ("too many presses"), never with an empty popup alone."""
    user = suite.users[0]
    async with suite.scenario("flood-button-presses", busy=(user,)) as window:
        await user.step(lambda: user.press(MENU_RECORDS), "medical record")
        sections = [
            (message, str(b["callback_data"]))
            for message in reversed(user.messages)
            for row in message.inline_keyboard
            for b in row
            if str(b.get("callback_data", "")).startswith("rl:")
        ]
        if not sections:
            window.failures.append("no section buttons on the medical record")
            return
        sections = sections[: len({data for _, data in sections})]
        presses = []
        for n in range(12):  # the limit lets a burst of 6 through
            message, data = sections[n % len(sections)]
            presses.append(user.press_data(message, data, "record section", gesture=True))
            await asyncio.sleep(0.02)
        deadline = CLOCK.monotonic() + 15
        while CLOCK.monotonic() < deadline and not all(
            any(c.query_id == p.query_id for c in suite.telegram.calls) for p in presses
        ):
            await suite.telegram.wait_change(0.5)
        await asyncio.sleep(1.0)  # the edits of the presses that were handled
        window.gesture = report.count_gesture(presses, suite.telegram.calls, CLOCK.monotonic())
        window.notes.append(
            f"presses={window.gesture.presses} told to press again={window.gesture.told}"
        )
        await asyncio.sleep(1.0)  # the limit refills; the next press works again
        await user.do(lambda: user.send_text(MENU_VISITS, probe=True))
