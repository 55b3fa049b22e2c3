"""The main menu on Telegram: a reply keyboard, so the way home is always one tap away. The
entries themselves are the channel-neutral `bot.flows.menu`."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.flows import menu
from bot.flows.screens import Button

# Lazy so that handlers can match `F.text == MENU_X` in whatever language the user reads.
MENU_RECORDS = __(menu.RECORDS.label)
MENU_BOOK = __(menu.BOOK.label)
MENU_VISITS = __(menu.VISITS.label)
MENU_WATCHES = __(menu.WATCHES.label)
MENU_PEOPLE = __(menu.PEOPLE.label)
MENU_ACCESS = __(menu.ACCESS.label)
MENU_PRIVACY = __(menu.PRIVACY.label)
MENU_NOTIFICATIONS = __(menu.NOTIFICATIONS.label)
MENU_LANGUAGE = __(menu.LANGUAGE.label)
MENU_HELP = __(menu.HELP.label)


def menu_keyboard(rows: tuple[tuple[Button, ...], ...]) -> ReplyKeyboardMarkup:
    """The menu's entries as a persistent keyboard: a tap sends the entry's text."""
    keyboard = [[KeyboardButton(text=b.text) for b in row] for row in rows]
    return ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True, is_persistent=True)


def main_menu() -> ReplyKeyboardMarkup:
    return menu_keyboard(menu.menu_buttons(_))


def menu_texts() -> set[str]:
    """The entries' texts in the current language (a tap on one arrives as this text)."""
    return {b.text for row in menu.menu_buttons(_) for b in row}
