"""Longer texts shared by several handlers, built at call time in the user's language."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _


def consent_text() -> str:
    return _(
        "<b>Consent to the processing of personal data</b>\n\n"
        "To link your medical card and book appointments, the bot processes personal and health "
        "data (Federal Law 152-FZ, articles 9 and 10).\n\n"
        "<b>What the bot keeps:</b> your Telegram id and language; the policies you link "
        "(encrypted) and whose cards you manage; your notification settings; a journal of who "
        "viewed a card through the bot.\n"
        "<b>What it does not keep:</b> your medical records. They are read from the EMK each "
        "time you open them and are not stored by the bot.\n"
        "<b>Why:</b> to show your records, book visits and send you notifications.\n\n"
        "You can withdraw consent and delete your data at any time: /privacy.\n\n"
        "Do you agree?"
    )


def help_text() -> str:
    return _(
        "<b>What this bot does</b>\n"
        "It is your door to the electronic medical record: link your OMS policy (and, with "
        "their code, a relative's), see your records, book and cancel doctor's appointments, "
        "and get notifications.\n\n"
        "<b>Commands</b>\n"
        "/start — start or return to the main menu\n"
        "/cancel — stop what you are doing\n"
        "/language — change the language\n"
        "/privacy — what the bot keeps about you, consent, deleting your data\n"
        "/help — this help"
    )
