"""What a flow gets with each input: the user, their database session, the one clock, their
language, the records backend, the keys and the settings — the same objects whichever
messenger the update came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.db.models import User
from bot.keys import AppKeys
from bot.settings import Settings

Translate = Callable[[str, str], str]
"""(msgid, locale) -> the text in that locale."""


@dataclass(frozen=True, slots=True)
class FlowContext:
    user: User
    session: AsyncSession
    clock: Clock
    locale: str
    locales: tuple[str, ...]
    translate: Translate
    backend: RecordsBackend
    keys: AppKeys
    settings: Settings

    def gettext(self, msgid: str) -> str:
        return self.translate(msgid, self.locale)

    def in_locale(self, locale: str) -> FlowContext:
        """The same update, answered in another language (the one just chosen)."""
        return replace(self, locale=locale)
