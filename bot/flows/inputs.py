"""What a person did, as every messenger can say it, and what a channel must be able to do in
answer: the two ends of `bot.flows.router`.

A renderer turns its update into one `Input` (Telegram: a message, a callback query, a shared
contact; MAX: `message_created`, `message_callback`, `bot_started`) and gives the router an
`Answer` that draws screens its own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.flows.screens import Screen


@dataclass(frozen=True, slots=True)
class Text:
    """A message typed (or a reply-keyboard button, whose text comes back as a message)."""

    text: str


@dataclass(frozen=True, slots=True)
class Command:
    """`/name args`: a typed command (the name without the slash, lower case)."""

    name: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class Press:
    """A button's id came back (Telegram's callback_data, MAX's callback payload)."""

    action: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A phone number shared with the bot's "share my number" button; `own` when the
    messenger says it is the sender's own number (not a card from the address book)."""

    phone: str
    own: bool


@dataclass(frozen=True, slots=True)
class Media:
    """A voice message, a sticker, a photo or a file the bot did not ask for (`kind` says
    which, for the log only)."""

    kind: str


@dataclass(frozen=True, slots=True)
class Started:
    """The person opened the bot (MAX's `bot_started`; Telegram's /start), with the deep
    link's payload if any."""

    payload: str = ""


Input = Text | Command | Press | Contact | Media | Started


def parse_text(text: str) -> Text | Command:
    """A typed message: a command when it starts with "/" (Telegram's "/cmd@bot" included)."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) == 1:
        return Text(text)
    head, _, args = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return Command(name, args.strip()) if name.isidentifier() else Text(text)


class Answer(Protocol):
    """How a channel answers one input. `show` renders screens in order (a press's popup
    answers the press; EDIT replaces the pressed message where the channel can) and says
    whether they reached the chat; `delete_input` removes the person's own message (it held a
    policy number, a birth date or a code); `more_time` says a long step is still working (the
    interaction's backend budget grows)."""

    async def show(self, screens: Sequence[Screen]) -> bool: ...

    async def delete_input(self) -> None: ...

    def more_time(self) -> None: ...
