"""The main menu: a reply keyboard, so the way home is always one tap away."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import lazy_gettext as __

# Lazy so that handlers can match `F.text == MENU_X` in whatever language the user reads.
MENU_RECORDS = __("🩺 Medical record")
MENU_BOOK = __("📅 Book a doctor")
MENU_VISITS = __("🗓 My appointments")
MENU_WATCHES = __("👀 Slot watches")
MENU_PEOPLE = __("👨‍👩‍👧 My people")
MENU_ACCESS = __("🔑 Who has access")
MENU_PRIVACY = __("🔒 Privacy")
MENU_NOTIFICATIONS = __("🔔 Notifications")
MENU_LANGUAGE = __("🌐 Language")
MENU_HELP = __("❓ Help")

# Rows of the menu, top to bottom; features add their entries here as they land.
MENU_ROWS = (
    (MENU_BOOK, MENU_VISITS),
    (MENU_RECORDS, MENU_WATCHES),
    (MENU_PEOPLE, MENU_ACCESS),
    (MENU_PRIVACY, MENU_NOTIFICATIONS),
    (MENU_LANGUAGE, MENU_HELP),
)


def main_menu() -> ReplyKeyboardMarkup:
    keyboard = [[KeyboardButton(text=str(item)) for item in row] for row in MENU_ROWS]
    return ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True, is_persistent=True)
