"""Neutral screens as MAX messages: one `MaxAnswer` per update.

- a press is always answered (`POST /answers`), with the screen's popup text if it has one
  (MAX shows one kind of notification: ALERT and POPUP look the same);
- EDIT replaces the pressed message's text and buttons, STRIP takes its buttons off; where
  MAX refuses (the message is gone), the screen comes as a new message instead;
- text over MAX's 4,000 characters is split at line breaks, the buttons under the last part;
- a file is its own message (MAX takes one file per message), its text as the caption;
- `protect` cannot be honoured: MAX has no protect_content (see the package's doc);
- a screen that only hides Telegram's reply keyboard is not sent (MAX has none).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from maxapi import Bot
from maxapi.enums.parse_mode import ParseMode
from maxapi.exceptions.max import MaxApiError
from maxapi.types import Attachment, AttachmentUpload, InputMedia, InputMediaBuffer

from bot.flows.screens import Button, Placement, Screen
from bot.logs import log_event
from max_channel.keyboard import keyboard

logger = logging.getLogger(__name__)

# maxapi's `attachments=` is an invariant list of this union: annotate, or mypy refuses.
Outgoing = list[Attachment | InputMedia | InputMediaBuffer | AttachmentUpload]

TEXT_LIMIT = 3999  # MAX refuses 4,000 and more (maxapi checks before sending)
_POPUPS = (Placement.POPUP, Placement.ALERT)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, cut at line breaks where there are any."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    parts.append(rest)
    return parts


class MaxAnswer:
    """How the bot answers one MAX update (`bot.flows.inputs.Answer`)."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int | None,
        *,
        user_id: int | None = None,
        callback_id: str | None = None,
        pressed_mid: str | None = None,
        input_mid: str | None = None,
        more_time: Callable[[], None] = lambda: None,
    ) -> None:
        # Set by the turn once the person's language is known (and only after consent).
        self.back_to_menu: Button | None = None
        self.bot = bot
        self.chat_id = chat_id
        self.user_id = user_id if chat_id is None else None  # MAX writes by one or the other
        self.callback_id = callback_id
        self.pressed_mid = pressed_mid
        self.input_mid = input_mid
        self._more_time = more_time
        self._press_answered = callback_id is None

    def more_time(self) -> None:
        self._more_time()

    async def delete_input(self) -> None:
        if self.input_mid is None:
            return
        try:
            await self.bot.delete_message(self.input_mid)
        except MaxApiError as error:
            log_event(logger, "max.delete_failed", logging.INFO, code=error.code)

    async def answer_press(self, notification: str | None = None) -> None:
        """Stop the pressed button's spinner, once, with `notification` if there is one."""
        if self._press_answered or self.callback_id is None:
            return
        self._press_answered = True
        await self.bot.send_callback(self.callback_id, notification=notification)

    async def show(self, screens: Sequence[Screen]) -> bool:
        if any(s.remove_reply_keyboard for s in screens):
            # Telegram's "hide the menu" (consent withdrawn, data deleted): MAX has no keyboard
            # to hide, and no menu may be offered any more in this turn.
            self.back_to_menu = None
            screens = [s for s in screens if not s.remove_reply_keyboard]
        popup = next((s for s in screens if s.placement in _POPUPS), None)
        on_button = popup is not None and not self._press_answered
        await self.answer_press(popup.text if popup is not None else None)
        for screen in screens:
            if screen.placement in _POPUPS:
                if not (on_button and screen is popup):  # no button (left) to pop up on
                    await self.send(screen)
            elif screen.placement is Placement.STRIP:
                await self._strip()
            elif screen.placement is Placement.EDIT and screen.file is None:
                await self._edit_or_send(screen)
            else:
                await self.send(screen)
        return True

    async def send(self, screen: Screen) -> None:
        markup = keyboard(screen, self.back_to_menu)
        buttons: Outgoing = [markup] if markup is not None else []
        if screen.file is not None:
            media: Outgoing = [InputMediaBuffer(screen.file.data, filename=screen.file.name)]
            await self.bot.send_message(
                chat_id=self.chat_id,
                user_id=self.user_id,
                text=screen.text[:TEXT_LIMIT] or None,
                attachments=media + buttons,
                format=ParseMode.HTML,
            )
            return
        parts = split_text(screen.text)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self.bot.send_message(
                chat_id=self.chat_id,
                user_id=self.user_id,
                text=part,
                attachments=buttons if last and buttons else None,
                format=ParseMode.HTML,
            )

    async def _strip(self) -> None:
        if self.pressed_mid is None:
            return
        try:
            nothing: Outgoing = []
            await self.bot.edit_message(self.pressed_mid, attachments=nothing)
        except MaxApiError as error:  # gone, or too old: its buttons are stale anyway
            log_event(logger, "max.edit_failed", logging.INFO, code=error.code)

    async def _edit_or_send(self, screen: Screen) -> None:
        if self.pressed_mid is None or len(screen.text) > TEXT_LIMIT:
            await self.send(screen)
            return
        markup = keyboard(screen, self.back_to_menu)
        buttons: Outgoing = [markup] if markup is not None else []
        try:
            await self.bot.edit_message(
                self.pressed_mid,
                text=screen.text,
                attachments=buttons,
                format=ParseMode.HTML,
            )
        except MaxApiError as error:
            log_event(logger, "max.edit_failed", logging.INFO, code=error.code)
            await self.send(screen)
