"""Who is told about a patient: everyone whose current link to the card has the needed scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Scope
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson
from bot.services.linking import patient_ref_hash
from bot.services.people import is_current


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    person_id: int


async def recipients_for(
    session: AsyncSession,
    cipher: FieldCipher,
    patient_id: str,
    needed: Scope,
    now: datetime,
) -> list[Recipient]:
    """The owner (their SELF link) and relatives whose link is current at `now`; results only
    to those with RECORDS."""
    rows = await session.scalars(
        select(LinkedPerson)
        .where(LinkedPerson.patient_ref_hash == patient_ref_hash(cipher, patient_id))
        .order_by(LinkedPerson.id)
    )
    return [
        Recipient(user_id=r.user_id, person_id=r.id)
        for r in rows
        if is_current(r, now) and Scope(r.scope).allows(needed)
    ]
