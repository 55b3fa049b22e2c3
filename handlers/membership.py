"""The user blocks or unblocks the bot in their private chat (Telegram's `my_chat_member`).

A block stops the notification worker at once instead of at its first 403; an unblock lets
notifications flow again. Nothing is sent either way: a blocked chat can't be written to, and
an unblock is not a request for a message (Restart sends /start, which answers by itself).
Someone the bot never saw has no row (the DB middleware does not create one for these
updates): their block or unblock is ignored.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from bot.clock import Clock
from bot.db.models import User
from bot.logs import log_event
from bot.services import users as users_service

router = Router(name=__name__)
# Groups and channels the bot is added to or removed from are not users blocking it.
router.my_chat_member.filter(F.chat.type == ChatType.PRIVATE)
logger = logging.getLogger(__name__)


def _own_chat(event: ChatMemberUpdated, user: User | None) -> User | None:
    """The user's row when the update is about their own private chat with the bot."""
    if user is None or event.chat.id != event.from_user.id:
        return None
    return user


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED))
async def blocked(event: ChatMemberUpdated, clock: Clock, user: User | None = None) -> None:
    # Any old status: whatever the bot believed before, the chat can't be written to now.
    known = _own_chat(event, user)
    if known is None:
        log_event(logger, "user.blocked_bot", known=False)
        return
    changed = users_service.mark_blocked(known, clock())
    log_event(logger, "user.blocked_bot", known=True, changed=changed, consent=known.has_consent)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED >> MEMBER))
async def unblocked(event: ChatMemberUpdated, clock: Clock, user: User | None = None) -> None:
    known = _own_chat(event, user)
    if known is None:
        log_event(logger, "user.unblocked_bot", known=False)
        return
    changed = users_service.mark_unblocked(known, clock())
    log_event(logger, "user.unblocked_bot", known=True, changed=changed, consent=known.has_consent)
