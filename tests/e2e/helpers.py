from __future__ import annotations

from bot.emulator import UserDriver


def last_text(user: UserDriver) -> str:
    """The text of the newest message the user sees from the bot."""
    return user.last_message.text or ""
