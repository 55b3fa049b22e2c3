"""One person, either messenger: the shared e2e scenarios are written against `Person` and run
on Telegram (the Telegram emulator, the real aiogram bot) and on MAX (the MAX emulator, the
maxapi front end), on the same sandbox and the same flows.

What differs is said here once: MAX starts with its Start button, not "/start"; its menu is
inline buttons (pressed like any button; on Telegram they are the reply keyboard's texts);
the "share my phone" button is MAX's request-contact button.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from backend_client.sandbox import SandboxBackend
from bot.app import App
from bot.clock import FrozenClock
from bot.emulator import UserDriver
from bot.max_emulator.driver import MaxUserDriver
from bot.offline import OfflineStack, offline_stack
from bot.settings import Settings
from max_channel.offline import OfflineMaxStack, offline_max_stack

CHANNELS = ("telegram", "max")


class Person(Protocol):
    channel: str

    async def start(self) -> None: ...

    async def press(self, text: str) -> None: ...

    async def send_text(self, text: str) -> None: ...

    @property
    def last_text(self) -> str: ...

    def texts(self) -> list[str]:
        """Every message the bot has shown this person, oldest first (edits applied)."""
        ...

    def buttons(self) -> list[str]:
        """The buttons of the newest message that has any (and, on Telegram, the keyboard)."""
        ...

    def with_button(self, prefix: str) -> tuple[Any, list[str]]:
        """The newest message with buttons whose id starts with `prefix`: its reference for
        `press_data`, and those ids (`tests.e2e.booking` taps by id)."""
        ...

    async def press_data(self, ref: Any, data: str) -> Any: ...

    def describe_buttons(self) -> str: ...

    def files(self) -> list[bytes]:
        """Every file the bot sent (photos and documents), oldest first."""
        ...

    async def send_file(self, data: bytes, name: str) -> None:
        """The person sends a file (a scan, a photo of a paper) the bot did not ask for."""
        ...


class _Shown(Protocol):
    @property
    def text(self) -> str | None: ...


class _Driver(Protocol):
    """What both emulators' drivers do alike."""

    async def press(self, text: str) -> object: ...

    async def send_text(self, text: str) -> object: ...

    @property
    def last_message(self) -> _Shown: ...

    def describe_buttons(self) -> str: ...


def newest_with(
    messages: Iterable[tuple[Any, Iterable[Iterable[Mapping[str, Any]]]]], key: str, prefix: str
) -> tuple[Any, list[str]] | None:
    """Of (reference, button rows) newest last: the newest whose buttons' `key` (Telegram's
    callback_data, MAX's payload) start with `prefix`, and those ids."""
    for ref, rows in reversed(list(messages)):
        found = [
            str(b.get(key)) for row in rows for b in row if str(b.get(key, "")).startswith(prefix)
        ]
        if found:
            return ref, found
    return None


@dataclass
class _Person:
    driver: _Driver

    async def press(self, text: str) -> None:
        await self.driver.press(text)

    async def send_text(self, text: str) -> None:
        await self.driver.send_text(text)

    @property
    def last_text(self) -> str:
        return self.driver.last_message.text or ""

    def describe_buttons(self) -> str:
        return self.driver.describe_buttons()

    def _found(self, found: tuple[Any, list[str]] | None, prefix: str) -> tuple[Any, list[str]]:
        if found is None:
            raise AssertionError(f"no button {prefix!r}; the user sees:\n{self.describe_buttons()}")
        return found


@dataclass
class TelegramPerson(_Person):
    driver: UserDriver
    channel: str = "telegram"

    async def start(self) -> None:
        await self.driver.send_command("/start")

    def texts(self) -> list[str]:
        return [m.text or m.caption or "" for m in self.driver.messages]

    def buttons(self) -> list[str]:
        inline = [b["text"] for row in self.driver.last_message.inline_keyboard for b in row]
        return inline + list(self.driver.reply_keyboard)

    def with_button(self, prefix: str) -> tuple[Any, list[str]]:
        shown = ((m.message_id, m.inline_keyboard) for m in self.driver.messages)
        return self._found(newest_with(shown, "callback_data", prefix), prefix)

    async def press_data(self, ref: Any, data: str) -> Any:
        return await self.driver.press_data(ref, data)

    async def send_file(self, data: bytes, name: str) -> None:
        await self.driver.send_document(data, name)

    def files(self) -> list[bytes]:
        sent = [m.photo or m.document for m in self.driver.chat.bot_messages(include_deleted=True)]
        return [f.data for f in sent if f is not None]


@dataclass
class MaxPerson(_Person):
    driver: MaxUserDriver
    channel: str = "max"

    async def start(self) -> None:
        await self.driver.start()

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.driver.messages]

    def buttons(self) -> list[str]:
        return next((m.buttons for m in reversed(self.driver.messages) if m.buttons), [])

    def with_button(self, prefix: str) -> tuple[Any, list[str]]:
        shown = ((m, m.keyboard) for m in self.driver.messages)
        return self._found(newest_with(shown, "payload", prefix), prefix)

    async def press_data(self, ref: Any, data: str) -> Any:
        return await self.driver.press_payload(ref, data)

    async def send_file(self, data: bytes, name: str) -> None:
        await self.driver.send_file(data, name)

    def files(self) -> list[bytes]:
        return [self.driver.download(attachment) for attachment in self.driver.files]


class Channel(Protocol):
    name: str

    @property
    def app(self) -> App:
        """The running app (its clock, database, backend; the worker runs on it)."""
        ...

    def person(self, user_id: int, name: str, phone: str) -> Person: ...


@dataclass
class TelegramChannel:
    stack: OfflineStack
    name: str = "telegram"

    @property
    def app(self) -> App:
        return self.stack.app

    def person(self, user_id: int, name: str, phone: str) -> Person:
        return TelegramPerson(self.stack.world.user(user_id, name, language_code="en", phone=phone))


@dataclass
class MaxChannel:
    stack: OfflineMaxStack
    name: str = "max"

    @property
    def app(self) -> App:
        return self.stack.app

    def person(self, user_id: int, name: str, phone: str) -> Person:
        return MaxPerson(self.stack.world.user(user_id, name, phone=phone))


@asynccontextmanager
async def channel_stack(
    name: str, settings: Settings, sandbox: SandboxBackend, clock: FrozenClock
) -> AsyncIterator[Channel]:
    """The bot on that messenger's emulator, on the given sandbox and the one clock."""
    if name == "telegram":
        async with offline_stack(settings, backend=sandbox, clock=clock) as stack:
            yield TelegramChannel(stack)
    else:
        async with offline_max_stack(settings, backend=sandbox, clock=clock) as max_stack:
            yield MaxChannel(max_stack)


async def consented(channel: Channel, user_id: int, name: str, phone: str) -> Person:
    """A person who chose English and gave consent."""
    person = channel.person(user_id, name, phone)
    await person.start()
    await person.press("🇬🇧 English")
    await person.press("✅ I agree")
    return person
