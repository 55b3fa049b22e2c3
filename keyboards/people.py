"""Buttons of "My people", the whose-card picker and the owner's access list (ids only)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.flows import owner_access
from keyboards.policies import add_person_keyboard


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


def people_keyboard(people: Sequence[tuple[int, str]], has_own_card: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for person_id, label in people:
        builder.button(text=label, callback_data=PersonCb(action=PersonAction.VIEW, id=person_id))
    add_person_keyboard(builder, has_own_card)
    builder.adjust(1)
    return builder.as_markup()


def person_keyboard(person_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🗑 Remove from My people"),
        callback_data=PersonCb(action=PersonAction.UNLINK, id=person_id),
    )
    return builder.as_markup()


def unlink_confirm_keyboard(person_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, remove"),
        callback_data=PersonCb(action=PersonAction.UNLINK_CONFIRM, id=person_id),
    )
    builder.button(
        text=_("No, keep"), callback_data=PersonCb(action=PersonAction.VIEW, id=person_id)
    )
    builder.adjust(1)
    return builder.as_markup()


def whose_card_keyboard(people: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for person_id, label in people:
        builder.button(text=label, callback_data=PersonCb(action=PersonAction.PICK, id=person_id))
    builder.adjust(1)
    return builder.as_markup()


def revoke_keyboard(
    refs: Sequence[tuple[str, str]], *, in_place: bool = False
) -> InlineKeyboardMarkup:
    """The revoke buttons of `bot.flows.owner_access` (the "someone got access" alert's)."""
    rows = owner_access.revoke_rows(_, refs, in_place=in_place)
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.action) for b in row] for row in rows
        ]
    )


def access_list_button(builder: InlineKeyboardBuilder) -> None:
    """The button "Who has access to my card": the owner's list with its revoke buttons, as a
    new message; it works with or without consent."""
    builder.button(
        text=_("🔑 Who has access to my card"), callback_data=AccessCb(action=AccessAction.LIST)
    )
