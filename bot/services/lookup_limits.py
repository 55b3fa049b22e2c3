"""The bot's own lock-out of wrong (policy, birth date) look-ups: per Telegram account and per
policy number, with the caps of `backend_client.lockout` (5 an hour and 20 a day per policy,
10 an hour and 30 a day per account).

The backend counts too; the bot counts again because a backend behind another adapter may not.
Failures are rows of `LookupFailure` (a requester pseudonym, a keyed hash of the policy, the
time), checked before every look-up and written when the backend answers "not found". No aiogram.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import LookupLocked
from backend_client.lockout import LONGEST_WINDOW, POLICY_CAPS, REQUESTER_CAPS, seconds_locked
from bot.crypto import FieldCipher
from bot.db.lookup_models import LookupFailure

PURPOSE_LOOKUP = "lookup-policy"


def policy_hash(cipher: FieldCipher, policy: str) -> str:
    """The policy number as the failure rows know it: a keyed hash, useless to anyone else."""
    return cipher.lookup_hash(policy, purpose=PURPOSE_LOOKUP)


async def wait_seconds(
    session: AsyncSession, requester_id: str, policy_key: str, now: datetime
) -> int:
    """Seconds until this account may look this policy up again; 0 when it may now."""
    since = now - LONGEST_WINDOW
    by_policy = await session.scalars(
        select(LookupFailure.failed_at).where(
            LookupFailure.policy_hash == policy_key, LookupFailure.failed_at > since
        )
    )
    by_account = await session.scalars(
        select(LookupFailure.failed_at).where(
            LookupFailure.requester_id == requester_id, LookupFailure.failed_at > since
        )
    )
    return max(
        seconds_locked(by_policy, POLICY_CAPS, now),
        seconds_locked(by_account, REQUESTER_CAPS, now),
    )


async def check(session: AsyncSession, requester_id: str, policy_key: str, now: datetime) -> None:
    """`LookupLocked` (the backend's own error, so both are told the same) under a full cap."""
    wait = await wait_seconds(session, requester_id, policy_key, now)
    if wait > 0:
        raise LookupLocked(wait)


async def record_failure(
    session: AsyncSession, requester_id: str, policy_key: str, now: datetime
) -> None:
    """One more wrong look-up; rows older than the longest window go at the same time.

    Committed at once, with whatever the session holds: the count must not depend on the
    reply getting through (someone who blocks the bot right after sending a date would
    otherwise get the failure back with the rolled-back update)."""
    old = LookupFailure.failed_at <= now - LONGEST_WINDOW
    await session.execute(delete(LookupFailure).where(old))
    session.add(LookupFailure(requester_id=requester_id, policy_hash=policy_key, failed_at=now))
    await session.commit()
