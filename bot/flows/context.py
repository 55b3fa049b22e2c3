"""What a flow gets with each input: the user, their database session, the one clock, their
language, the records backend, the keys and the settings — the same objects whichever
messenger the update came from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.db.models import User
from bot.keys import AppKeys
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.flows.linking_outputs import Notice

Translate = Callable[[str, str], str]
"""(msgid, locale) -> the text in that locale."""
Plural = Callable[[str, str, int, str], str]
Tell = Callable[["Notice"], Awaitable[None]]
"""(singular, plural, n, locale) -> the form for n in that locale."""


MESSENGER_NAMES = {"telegram": "Telegram", "max": "MAX"}


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
    plural: Plural
    # The name the messenger shows for the user: only a fallback for the requester's name the
    # owner's SMS uses (marked unverified), never stored or logged.
    first_name: str = ""
    # Sends a screen to another user of the bot, on the messenger they use (`bot.notices`).
    tell: Tell | None = None

    async def tell_all(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            if self.tell is None:
                raise RuntimeError("this context cannot reach other users")
            await self.tell(notice)

    @property
    def messenger(self) -> str:
        """The messenger's name as the person knows it, for texts that must say it."""
        return MESSENGER_NAMES.get(self.user.channel, "Telegram")

    def gettext(self, msgid: str) -> str:
        return self.translate(msgid, self.locale)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.plural(singular, plural, n, self.locale)

    def in_locale(self, locale: str) -> FlowContext:
        """The same update, answered in another language (the one just chosen)."""
        return replace(self, locale=locale)


class Memory(Protocol):
    """What a conversation remembers between its steps: the step it is at (a flow's own
    string, e.g. "linking:policy"; None between conversations) and ids and small values.
    aiogram's FSMContext fits, and so does any store with these five methods."""

    async def get_state(self) -> str | None: ...

    async def set_state(self, state: str | None = None) -> None: ...

    async def get_data(self) -> dict[str, Any]: ...

    async def update_data(
        self, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]: ...

    async def clear(self) -> None: ...
