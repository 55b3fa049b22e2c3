"""Offline Telegram Bot API emulator, a user driver for tests and a terminal chat client.

world = EmulatorWorld()
async with EmulatorServer(world) as server:
    bot = Bot(server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    user = world.user(telegram_id=1001, first_name="Анна")
    await user.send_command("/start")
"""

from bot.emulator.clock import Clock
from bot.emulator.driver import UserDriver
from bot.emulator.errors import ApiError
from bot.emulator.models import (
    CallbackAnswer,
    ChatAction,
    Edit,
    StoredFile,
    StoredMessage,
    UserRecord,
)
from bot.emulator.rate_limit import RateLimits
from bot.emulator.server import DEFAULT_TOKEN, EmulatorServer, create_app
from bot.emulator.tracking import track_dispatcher
from bot.emulator.world import EmulatorWorld
from bot.emulator.world_state import Stats

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "CallbackAnswer",
    "ChatAction",
    "Clock",
    "Edit",
    "EmulatorServer",
    "EmulatorWorld",
    "RateLimits",
    "Stats",
    "StoredFile",
    "StoredMessage",
    "UserDriver",
    "UserRecord",
    "create_app",
    "track_dispatcher",
]
