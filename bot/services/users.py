"""Users, their language and their consent (152-FZ: explicit, recorded, revocable)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import TELEGRAM, User

CONSENT_VERSION = "2026-11"
SUPPORTED_LANGUAGES = ("ru", "en")


async def find_user(
    session: AsyncSession, telegram_id: int, channel: str = TELEGRAM
) -> User | None:
    """The user's row if the bot knows them; never creates one and changes nothing.
    `telegram_id` is the messenger's user id, unique within `channel`."""
    return await session.scalar(
        select(User).where(User.channel == channel, User.telegram_id == telegram_id)
    )


async def get_or_create_user(
    session: AsyncSession, telegram_id: int, now: datetime, channel: str = TELEGRAM
) -> User:
    user = await find_user(session, telegram_id, channel)
    if user is None:
        user = User(telegram_id=telegram_id, channel=channel, created_at=now, last_seen_at=now)
        session.add(user)
        await session.flush()
    else:
        user.last_seen_at = now
        # Writing to the bot again is how a user who blocked it comes back.
        user.blocked_at = None
    return user


def mark_blocked(user: User, now: datetime) -> bool:
    """The user blocked the bot: nothing is sent to them until they come back.

    Keeps the earlier moment if the bot already knew (a 403 or a repeated update); True if
    this changed anything.
    """
    if user.blocked_at is not None:
        return False
    user.blocked_at = now
    return True


def mark_unblocked(user: User, now: datetime) -> bool:
    """The user unblocked (restarted) the bot: notifications may reach them again."""
    user.last_seen_at = now
    if user.blocked_at is None:
        return False
    user.blocked_at = None
    return True


def set_language(user: User, language: str) -> None:
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    user.language = language


def give_consent(user: User, now: datetime) -> None:
    user.consent_given_at = now
    user.consent_withdrawn_at = None
    user.consent_version = CONSENT_VERSION


def withdraw_consent(user: User, now: datetime) -> None:
    user.consent_withdrawn_at = now
