"""A screen's buttons as a MAX inline keyboard.

MAX has no reply keyboard: the main menu a Telegram screen shows as its persistent keyboard
is shown here as inline buttons (`menu:<key>`) under the same message. The "share my phone"
button is MAX's own `request_contact` button; its press comes back as a contact message.
"""

from __future__ import annotations

from maxapi.enums.attachment import AttachmentType
from maxapi.types import CallbackButton, RequestContactButton
from maxapi.types.attachments.attachment import ButtonsPayload
from maxapi.types.attachments.buttons.attachment_button import AttachmentButton

from bot.flows.linking_outputs import SHARE_CONTACT
from bot.flows.screens import Button, Screen

# MAX's limits on one keyboard (its docs; the emulator checks them).
MAX_ROWS = 30
MAX_PER_ROW = 7


def _button(button: Button) -> CallbackButton | RequestContactButton:
    if button.action == SHARE_CONTACT:
        return RequestContactButton(text=button.text)
    return CallbackButton(text=button.text, payload=button.action)


def keyboard(screen: Screen, back_to_menu: Button | None = None) -> AttachmentButton | None:
    """The screen's rows, then (if it carries one) the menu; a screen with no buttons at all
    gets `back_to_menu` (MAX keeps no menu at hand as Telegram's keyboard does). None when
    there is nothing to press."""
    rows = list(screen.rows)
    if screen.menu is not None:
        rows.extend(screen.menu)
    if not rows and back_to_menu is not None:
        rows.append((back_to_menu,))
    if not rows:
        return None
    buttons = [[_button(b) for b in row[:MAX_PER_ROW]] for row in rows[:MAX_ROWS]]
    # What maxapi's InlineKeyboardBuilder.as_markup builds (that builder is untyped).
    return AttachmentButton(  # type: ignore[call-arg]
        type=AttachmentType.INLINE_KEYBOARD, payload=ButtonsPayload(buttons=buttons)
    )
