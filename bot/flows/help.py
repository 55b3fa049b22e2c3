"""/help, channel-neutral: what the bot does and its commands, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable


def help_text(_: Callable[[str], str]) -> str:
    return _(
        "<b>What this bot does</b>\n"
        "It is your door to the electronic medical record (EMK):\n"
        "• <b>My people</b>: link your OMS policy, a relative's (with the code from the SMS the "
        "owner receives) and your children under 15;\n"
        "• <b>Book a doctor</b> for yourself or your people, reschedule or cancel a visit, or "
        "watch for a free slot;\n"
        "• <b>Medical record</b>: visits, lab results with trends, studies, discharge summaries, "
        "vaccinations, prescriptions, referrals — and PDF copies;\n"
        "• <b>Notifications</b>: results ready, reminders, changes made by the clinic;\n"
        "• <b>Who has access</b> to your card, and who viewed it.\n\n"
        "<b>Commands</b>\n"
        "/start — start or return to the main menu\n"
        "/cancel — stop what you are doing\n"
        "/records — medical record\n"
        "/people — my people and linking policies\n"
        "/access — who has access to my card\n"
        "/notifications — notification settings\n"
        "/language — change the language\n"
        "/privacy — what the bot keeps about you, consent, deleting your data (/forget)\n"
        "/help — this help"
    )
