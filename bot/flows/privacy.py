""" "My data" (/privacy): what the bot keeps, and the way to who has access, who viewed the
card, withdrawing consent and deleting one's data. The first feature moved to a neutral flow;
the Telegram renderer is `handlers.privacy` through `handlers.render`."""

from __future__ import annotations

from collections.abc import Callable

from bot.flows.screens import Button, Screen, column
from bot.services.privacy import StoredSummary

Gettext = Callable[[str], str]

# The button ids, as the Telegram CallbackData factories pack them (keyboards/privacy.py,
# keyboards/people.py), so old buttons in chats keep working; a test keeps them equal.
ACCESS_LIST = "acc:l::0"
JOURNAL = "priv:j"
WITHDRAW = "priv:w"
FORGET = "priv:f"


def summary_screen(summary: StoredSummary, _: Gettext) -> Screen:
    text = _(
        "<b>What the bot keeps about you</b>\n"
        "• Telegram id and language\n"
        "• consent given: {consent}\n"
        "• linked people: {people}\n\n"
        "Your medical records are not stored: they are read from the EMK when you open them."
    ).format(consent=_("yes") if summary.has_consent else _("no"), people=summary.linked_people)
    buttons = []
    if summary.has_own_card:  # who has access to it and who viewed it come first
        buttons += [
            Button(_("🔑 Who has access to my card"), ACCESS_LIST),
            Button(_("👁 Who viewed my card"), JOURNAL),
        ]
    buttons += [Button(_("Withdraw consent"), WITHDRAW), Button(_("Delete my data"), FORGET)]
    return Screen(text, column(*buttons))
