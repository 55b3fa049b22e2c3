"""Issue 14 (5), on Telegram through the emulator: /cancel in the middle of booking says
"Cancelled." (the draft has no FSM state), and the booking's old buttons then say stale."""

from __future__ import annotations

import pytest

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.offline import OfflineStack
from tests.e2e.booking import tap, to_calendar
from tests.e2e.helpers import last_text
from tests.e2e.people import link_own_card, new_user, persona

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]


@pytest.fixture(autouse=True)
def bot_reads_the_sandbox_clock(stack: OfflineStack, sandbox_clock: FrozenClock) -> None:
    stack.app.dispatcher["clock"] = sandbox_clock


async def test_cancel_mid_booking(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 7141, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    await to_calendar(user, sandbox, sandbox_clock)
    await user.send_command("/cancel")
    assert last_text(user).startswith("Cancelled.")
    answer = await tap(user, "cal:d:")
    assert answer.show_alert and "out of date" in (answer.text or "")
