"""Button ids of "My people" and of the owner's access list, as Telegram packs them, and the
access buttons of modules that are not flows yet; My people's own buttons are the flow's
(`bot.flows.people`)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.flows import owner_access
from keyboards.inline import inline_markup


class PersonAction(StrEnum):
    VIEW = "v"
    UNLINK = "u"
    UNLINK_CONFIRM = "uc"
    PICK = "p"


class PersonCb(CallbackData, prefix="ppl"):
    """`id` is the bot's own linked-person row id, never a policy or a patient id."""

    action: PersonAction
    id: int


class AccessAction(StrEnum):
    LIST = "l"
    REVOKE = "r"
    """Ask first: "Revoke access?" (nothing is revoked by this button)."""
    REVOKE_CONFIRM = "rc"
    KEEP = "k"


class AccessCb(CallbackData, prefix="acc"):
    """`ref` is a short keyed reference to a grant, resolved against the owner's live list.

    `n` marks a button on a notification (the "someone got access" alert): its flow opens in a
    new message, as notifications are never edited; the list's own buttons edit the list."""

    action: AccessAction
    ref: str = ""
    n: bool = False


def revoke_keyboard(
    refs: Sequence[tuple[str, str]], *, in_place: bool = False
) -> InlineKeyboardMarkup:
    """The revoke buttons of `bot.flows.owner_access` (the "someone got access" alert's)."""
    markup = inline_markup(owner_access.revoke_rows(_, refs, in_place=in_place))
    assert markup is not None, "a revoke keyboard for nobody"
    return markup
