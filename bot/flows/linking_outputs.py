"""What the linking flow answers besides screens, channel-neutral.

A `Reply` is the screens (as every flow returns) plus two things a `Screen` cannot say:
delete the user's message being answered (it carried a policy number, a birth date, a code or
a phone, which must not stay in the chat), and tell another user of the bot (the card's owner,
"someone got access to your card"). A screen that asks for the user's own phone carries the
`SHARE_CONTACT` button: Telegram renders it as its request-contact keyboard, MAX as its
request-contact button; its id never comes back as a press.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.flows.inputs import Answer
from bot.flows.screens import Button, Screen

SHARE_CONTACT = "lph:share"
"""The id of the "share my phone number" button: a contact comes back, not this id."""


@dataclass(frozen=True, slots=True)
class Notice:
    """A screen for another user of the bot (their id as `User.telegram_id` keeps it, on the
    messenger `channel` names), in their own language, sent as a new message."""

    recipient: int
    screen: Screen
    channel: str = "telegram"


@dataclass(frozen=True, slots=True)
class Reply:
    screens: tuple[Screen, ...] = ()
    delete_input: bool = False  # delete the user's message first (it carried a policy/code/phone)
    notices: tuple[Notice, ...] = ()

    def then(self, more: Reply | Iterable[Screen]) -> Reply:
        """This reply followed by more screens (or another reply)."""
        if isinstance(more, Reply):
            return Reply(
                self.screens + more.screens,
                self.delete_input or more.delete_input,
                self.notices + more.notices,
            )
        return Reply(self.screens + tuple(more), self.delete_input, self.notices)


def reply(*screens: Screen, delete_input: bool = False) -> Reply:
    return Reply(tuple(screens), delete_input)


def contact_button(screen: Screen) -> Button | None:
    """The screen's "share my phone number" button, if it asks for the user's phone."""
    return next((b for b in screen.buttons if b.action == SHARE_CONTACT), None)


async def deliver(answer: Answer, said: Reply) -> bool:
    """A reply through a channel's `Answer` (`bot.flows.inputs`): the input deleted first, then
    the screens; True when they reached the chat. Notices go to other chats: the caller's."""
    if said.delete_input:
        await answer.delete_input()
    return await answer.show(said.screens)
