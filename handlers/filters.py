from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.db.models import User


class HasConsent(Filter):
    """Passes only for users who have given (and not withdrawn) consent."""

    async def __call__(self, event: TelegramObject, user: User | None = None) -> bool:
        return user is not None and user.has_consent
