"""The main menu, channel-neutral: entries with an id and a label (a msgid).

Telegram shows it as a persistent reply keyboard whose button texts come back as messages
(`keyboards/menu.py` maps a text back to its entry); a messenger without reply keyboards (MAX)
shows the same entries as inline buttons whose action is `menu:<key>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.flows.screens import N_, Button


@dataclass(frozen=True, slots=True)
class MenuEntry:
    key: str
    label: str  # a msgid

    @property
    def action(self) -> str:
        return f"{ACTION_PREFIX}{self.key}"


ACTION_PREFIX = "menu:"

BOOK = MenuEntry("book", N_("📅 Book a doctor"))
VISITS = MenuEntry("visits", N_("🗓 My appointments"))
RECORDS = MenuEntry("records", N_("🩺 Medical record"))
WATCHES = MenuEntry("watches", N_("👀 Slot watches"))
PEOPLE = MenuEntry("people", N_("👨‍👩‍👧 My people"))
ACCESS = MenuEntry("access", N_("🔑 Who has access"))
PRIVACY = MenuEntry("privacy", N_("🔒 Privacy"))
NOTIFICATIONS = MenuEntry("notifications", N_("🔔 Notifications"))
LANGUAGE = MenuEntry("language", N_("🌐 Language"))
HELP = MenuEntry("help", N_("❓ Help"))

# Top to bottom; a feature adds its entry here.
ROWS: tuple[tuple[MenuEntry, ...], ...] = (
    (BOOK, VISITS),
    (RECORDS, WATCHES),
    (PEOPLE, ACCESS),
    (PRIVACY, NOTIFICATIONS),
    (LANGUAGE, HELP),
)
ENTRIES = {entry.key: entry for row in ROWS for entry in row}


def entry_of(action: str) -> MenuEntry | None:
    """The entry a `menu:<key>` action names (None for anything else, a forged one included)."""
    if not action.startswith(ACTION_PREFIX):
        return None
    return ENTRIES.get(action[len(ACTION_PREFIX) :])


def menu_buttons(gettext: Callable[[str], str]) -> tuple[tuple[Button, ...], ...]:
    """The menu as inline buttons, labels in the reader's language (`gettext(msgid)`)."""
    return tuple(tuple(Button(gettext(e.label), e.action) for e in row) for row in ROWS)
