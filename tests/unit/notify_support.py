"""Fixtures for the notification tests: a sandbox on the test's frozen clock, people linked to
cards. Every service is handed `world.clock` (or a moment read from it): nothing reads the
real time, so a test means the same at any instant `EMK_TEST_NOW` picks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backend_client.models import Appointment, Relation, Requester, Scope, Slot
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.clock import at_msk, msk_date
from backend_client.sandbox.testing import code_from_sms
from bot.clock import FrozenClock
from bot.crypto import FieldCipher, requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import LinkedPerson, User
from bot.db.notifications_models import OutboxMessage
from bot.i18n import create_i18n
from bot.keys import AppKeys
from bot.services import users as users_service
from bot.services.linking import PURPOSE_LABEL, PURPOSE_POLICY, patient_ref_hash
from bot.services.notifications.outbox import ClaimedMessage
from bot.services.notifications.prepare import SendContext
from tests.sandbox_fixtures import TEST_NOW, SandboxTemplates, open_sandbox


def next_moscow(now: datetime, hour: int, minute: int = 0) -> datetime:
    """The next time it is `hour:minute` in Moscow after `now` (later today or tomorrow)."""
    moment = at_msk(msk_date(now), hour, minute)
    return moment if moment > now else at_msk(msk_date(now) + timedelta(days=1), hour, minute)


@dataclass
class World:
    backend: SandboxBackend
    clock: FrozenClock
    sessionmaker: SessionMaker
    keys: AppKeys

    @property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.keys)

    def context(self) -> SendContext:
        return SendContext(self.backend, self.keys, create_i18n("ru"), "ru")

    def now(self) -> datetime:
        return self.clock()

    async def user(self, telegram_id: int, language: str = "ru") -> int:
        async with self.sessionmaker() as db:
            user = await users_service.get_or_create_user(db, telegram_id, self.now())
            users_service.set_language(user, language)
            users_service.give_consent(user, self.now())
            await db.commit()
            return user.id

    async def link(
        self,
        telegram_id: int,
        persona_key: str,
        label: str,
        relation: Relation = Relation.SELF,
        scope: Scope = Scope.RECORDS,
    ) -> int:
        """Link the card at the backend (SMS code and all) and keep the bot's row; returns its
        id."""
        user_id = await self.user(telegram_id)
        who = next(p for p in await self.backend.personas() if p.key == persona_key)
        requester = Requester(id=requester_id_for(self.keys, telegram_id), display_name="Тест Т.")
        self.clock.advance(seconds=61)
        challenge = await self.backend.request_access(
            who.policy, who.birth_date, requester, relation, scope
        )
        sms = next(m for m in await self.backend.sms_outbox(who.phone) if "Код" in m.text)
        grant = await self.backend.confirm_access(
            challenge.challenge_id, code_from_sms(sms.text), requester
        )
        async with self.sessionmaker() as db:
            row = LinkedPerson(
                user_id=user_id,
                relation=relation.value,
                scope=grant.scope.value,
                grant_id=grant.grant_id,
                patient_ref_hash=patient_ref_hash(self.cipher, grant.patient.patient_id),
                label_enc=self.cipher.encrypt(label, purpose=PURPOSE_LABEL),
                policy_enc=self.cipher.encrypt(who.policy, purpose=PURPOSE_POLICY),
                created_at=self.now(),
            )
            db.add(row)
            await db.commit()
            return row.id

    async def free_slot(
        self, after: datetime, *, doctor_id: str | None = None, besides: str | None = None
    ) -> Slot:
        """The first free time at or after `after`: a therapist's (no referral needed), or
        this doctor's; not the slot `besides`. A test chooses its visit's time this way."""
        slots = await self.backend.search_free_slots(
            doctor_id=doctor_id,
            specialty_code=None if doctor_id else "therapist",
            date_from=msk_date(after),
            date_to=msk_date(after) + timedelta(days=7),
        )
        return min(
            (s for s in slots if s.starts_at >= after and s.slot_id != besides),
            key=lambda s: s.starts_at,
        )

    async def book(self, telegram_id: int, person_id: int, slot: Slot) -> Appointment:
        """The user books `slot` on the card of their link `person_id` (at the backend)."""
        async with self.sessionmaker() as db:
            row = await db.get(LinkedPerson, person_id)
            assert row is not None
        requester_id = requester_id_for(self.keys, telegram_id)
        return await self.backend.book(
            row.grant_id, requester_id, slot.slot_id, f"t-{slot.slot_id}"
        )

    async def policy(self, persona_key: str) -> str:
        return next(p for p in await self.backend.personas() if p.key == persona_key).policy

    async def outbox(self) -> list[OutboxMessage]:
        async with self.sessionmaker() as db:
            return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    async def user_row(self, telegram_id: int) -> User:
        async with self.sessionmaker() as db:
            user = await db.scalar(select(User).where(User.telegram_id == telegram_id))
            assert user is not None
            return user


def as_claimed(row: OutboxMessage) -> ClaimedMessage:
    """The row as the delivery loop holds it after claiming (the lease's end does not matter
    to the send-time check)."""
    import json

    return ClaimedMessage(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        person_id=row.person_id,
        subject=row.subject,
        payload=json.loads(row.payload),
        priority=row.priority,
        attempts=row.attempts,
        lease_until=row.not_before,
        created_at=row.created_at,
    )


@pytest.fixture
async def world(
    sandbox_templates: SandboxTemplates,
    tmp_path: Path,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
) -> AsyncIterator[World]:
    template = sandbox_templates(seed=42, now=TEST_NOW)
    async with open_sandbox(template, tmp_path, clock) as backend:
        yield World(backend, clock, sessionmaker, keys)
