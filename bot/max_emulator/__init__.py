"""Offline emulator of the MAX messenger Bot API (platform-api.max.ru) for maxapi bots.

world = MaxWorld(clock=Clock(FrozenClock(...)))
async with MaxEmulatorServer(world) as server:
    bot = emulator_bot(server)          # maxapi Bot with set_api_url(server.base_url)
    async with polling(dp, bot, server):
        user = world.user(1001, "Анна", phone="+79990000001")
        await user.start()
        await user.press("📱 Поделиться номером")
"""

from bot.max_emulator.attachments import KeyboardLimits
from bot.max_emulator.driver import MaxUserDriver
from bot.max_emulator.errors import ApiError
from bot.max_emulator.models import (
    CallbackAnswer,
    CallbackRecord,
    ChatAction,
    MaxUser,
    StoredFile,
    StoredMessage,
    Subscription,
)
from bot.max_emulator.rate_limit import MaxRateLimits
from bot.max_emulator.server import MaxEmulatorServer, create_app
from bot.max_emulator.world import DEFAULT_TOKEN, Dialog, MaxWorld

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "CallbackAnswer",
    "CallbackRecord",
    "ChatAction",
    "Dialog",
    "KeyboardLimits",
    "MaxEmulatorServer",
    "MaxRateLimits",
    "MaxUser",
    "MaxUserDriver",
    "MaxWorld",
    "StoredFile",
    "StoredMessage",
    "Subscription",
    "create_app",
]
