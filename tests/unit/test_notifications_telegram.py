"""The Telegram adapter against the emulator: what each answer becomes."""

from __future__ import annotations

from bot.emulator.harness import emulator_bot
from bot.emulator.rate_limit import RateLimits
from bot.emulator.server import EmulatorServer
from bot.emulator.world import EmulatorWorld
from bot.notify_telegram import TelegramSender
from bot.services.notifications.render import Action, Button, NotificationView
from bot.services.notifications.sending import Outcome

VIEW = NotificationView(
    "🧪 Готов новый результат анализа: Мама.", (Button("Открыть", Action.OPEN_ENTRY, 3, "e1"),)
)


async def test_sent_blocked_and_too_many_requests() -> None:
    world = EmulatorWorld()
    async with EmulatorServer(world) as server:
        bot = emulator_bot(server)
        send = TelegramSender(bot)
        anna = world.user(1001, "Анна")
        ivan = world.user(1002, "Иван")
        for person in (anna, ivan):
            person.record.started = True  # both wrote to the bot once (no bot polls here)
        ivan.block_bot()

        assert (await send(1001, VIEW)).outcome is Outcome.SENT
        message = anna.last_message
        assert message.text == VIEW.text and message.protect_content
        assert (await send(1002, VIEW)).outcome is Outcome.BLOCKED

        world.set_rate_limits(RateLimits(enabled=True, per_chat_per_second=1.0, per_chat_burst=1))
        assert (await send(1001, VIEW)).outcome is Outcome.SENT
        refused = await send(1001, VIEW)
        assert refused.outcome is Outcome.RETRY_AFTER and refused.retry_after >= 1
        await bot.session.close()
