"""What a flow answers: neutral screens that every messenger can render.

A button carries an opaque id (the flow's own encoding, at most 64 bytes so that Telegram's
callback data and MAX's payload both hold it); the renderer never interprets it. Flags say what
a channel must do or, where it cannot, what it does instead (MAX has no protect_content).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


def N_(text: str) -> str:
    """Marks a msgid for extraction; translated later, where it is shown, in the reader's
    locale."""
    return text


MAX_ACTION_BYTES = 64  # Telegram's callback_data limit; MAX's payload is larger


class Placement(StrEnum):
    NEW = "new"  # a new message
    EDIT = "edit"  # replace the message whose button was pressed
    POPUP = "popup"  # a short notice on the pressed button (Telegram: answerCallbackQuery)
    ALERT = "alert"  # the same, shown as a dialog the user closes
    STRIP = "strip"  # take the buttons off the pressed message (its text stays)


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    action: str

    def __post_init__(self) -> None:
        if len(self.action.encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"button action longer than {MAX_ACTION_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class FileOut:
    name: str
    data: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    rows: tuple[tuple[Button, ...], ...] = ()
    placement: Placement = Placement.NEW
    protect: bool = False  # medical content: not forwardable or saveable where the channel can
    file: FileOut | None = None
    remove_reply_keyboard: bool = False
    # The main menu with this message (`bot.flows.menu.menu_buttons`): Telegram shows it as
    # its persistent reply keyboard, a channel without one as inline buttons.
    menu: tuple[tuple[Button, ...], ...] | None = None

    @property
    def buttons(self) -> list[Button]:
        return [button for row in self.rows for button in row]


def column(*buttons: Button) -> tuple[tuple[Button, ...], ...]:
    """One button per row: the shape of most of the bot's menus."""
    return tuple((button,) for button in buttons)


def edit_as_new(screen: Screen) -> Screen:
    """A step that would replace the pressed message, as a message of its own: for an answer
    to typed text or to a menu entry, which have no pressed message to replace."""
    return (
        replace(screen, placement=Placement.NEW) if screen.placement is Placement.EDIT else screen
    )
