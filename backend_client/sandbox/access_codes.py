"""SMS-code challenges: sending codes under the send limits, resending, confirming."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import (
    CodeExhausted,
    CodeExpired,
    CodeWrong,
    GrantLimitReached,
    InvalidRequest,
    NotFound,
    RateLimited,
)
from backend_client.models import Challenge, Grant, Relation, Requester, Scope
from backend_client.protocol import (
    CODE_TTL_SECONDS,
    MAX_RECIPIENTS,
    RESEND_PAUSE_SECONDS,
    SENDS_PER_DAY,
    SENDS_PER_HOUR,
)
from backend_client.sandbox import schema as s
from backend_client.sandbox.access_grants import GrantsMixin, check_requester
from backend_client.sandbox.clock import msk_date
from backend_client.sandbox.core import check_id
from backend_client.sandbox.sms import code_text_relative, code_text_self, granted_text, mask_phone

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class ChallengesMixin(GrantsMixin):
    def _hash(self, challenge_id: str, code: str) -> str:
        return hmac.new(self._secret, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()

    async def _check_send_limits(
        self, conn: AsyncConnection, patient_id: str, requester_id: str
    ) -> None:
        now = self.now()
        retry = 0.0
        for column, value in (
            (s.sms_sends.c.patient_id, patient_id),
            (s.sms_sends.c.requester_id, requester_id),
        ):
            q = (
                select(s.sms_sends.c.sent_at)
                .where(column == value, s.sms_sends.c.sent_at > now - DAY)
                .order_by(s.sms_sends.c.sent_at)
            )
            times: list[datetime] = list((await conn.execute(q)).scalars())
            if times and now - times[-1] < timedelta(seconds=RESEND_PAUSE_SECONDS):
                retry = max(retry, RESEND_PAUSE_SECONDS - (now - times[-1]).total_seconds())
            hour = [t for t in times if t > now - HOUR]
            if len(hour) >= SENDS_PER_HOUR:
                retry = max(retry, (hour[-SENDS_PER_HOUR] + HOUR - now).total_seconds())
            if len(times) >= SENDS_PER_DAY:
                retry = max(retry, (times[-SENDS_PER_DAY] + DAY - now).total_seconds())
        if retry > 0:
            raise RateLimited(math.ceil(retry))

    async def _send_code(
        self, conn: AsyncConnection, challenge: Row[Any] | dict[str, Any], patient: Row[Any]
    ) -> str:
        """New code for the challenge; returns its hash. The code itself only goes in the SMS."""
        get = (
            challenge.__getitem__ if isinstance(challenge, dict) else challenge._mapping.__getitem__
        )
        code = f"{secrets.randbelow(10**6):06d}"
        scope = Scope(get("scope"))
        if get("relation") == Relation.SELF:
            text = code_text_self(code)
        else:
            until = get("access_expires_at")
            text = code_text_relative(
                code, get("requester_name"), scope, msk_date(until) if until else None
            )
        now = self.now()
        await self._sms.send(conn, patient.phone, text, now)
        await conn.execute(
            insert(s.sms_sends).values(
                patient_id=patient.id, requester_id=get("requester_id"), sent_at=now
            )
        )
        return self._hash(get("id"), code)

    def _challenge_model(self, row: Row[Any] | dict[str, Any], patient: Row[Any]) -> Challenge:
        get = row.__getitem__ if isinstance(row, dict) else row._mapping.__getitem__
        return Challenge(
            challenge_id=get("id"),
            patient_id=patient.id,
            patient=self.patient_ref(patient),
            relation=Relation(get("relation")),
            scope=Scope(get("scope")),
            access_expires_at=get("access_expires_at"),
            phone_masked=mask_phone(patient.phone),
            expires_at=get("code_expires_at"),
            resend_available_at=get("resend_available_at"),
            attempts_left=get("attempts_left"),
        )

    async def _own_challenge(
        self, conn: AsyncConnection, challenge_id: str, requester: Requester
    ) -> Row[Any]:
        check_id(challenge_id, "challenge_id")
        row = (
            await conn.execute(select(s.challenges).where(s.challenges.c.id == challenge_id))
        ).first()
        if row is None or row.requester_id != requester.id:
            raise NotFound("challenge not found")
        return row

    async def resend_code(self, challenge_id: str, requester: Requester) -> Challenge:
        check_requester(requester)
        async with self.tx() as conn:
            ch = await self._own_challenge(conn, challenge_id, requester)
            if ch.state != "pending":
                raise CodeExhausted("challenge is closed")
            now = self.now()
            if now < ch.resend_available_at:
                raise RateLimited(math.ceil((ch.resend_available_at - now).total_seconds()))
            patient = await self.patient_row(conn, ch.patient_id)
            await self._check_send_limits(conn, patient.id, requester.id)
            code_hash = await self._send_code(conn, ch, patient)  # the old hash is overwritten
            values = {
                "code_hash": code_hash,
                "code_expires_at": now + timedelta(seconds=CODE_TTL_SECONDS),
                "resend_available_at": now + timedelta(seconds=RESEND_PAUSE_SECONDS),
            }
            await conn.execute(
                update(s.challenges).where(s.challenges.c.id == ch.id).values(**values)
            )
            merged = {**ch._mapping, **values}
            return self._challenge_model(merged, patient)

    async def confirm_access(self, challenge_id: str, code: str, requester: Requester) -> Grant:
        check_requester(requester)
        code = code.strip() if isinstance(code, str) else ""
        if len(code) != 6 or not code.isdigit():
            raise InvalidRequest("code")
        async with self.tx() as conn:
            ch = await self._own_challenge(conn, challenge_id, requester)
            if ch.state == "used" and (replayed := await self._replayed(conn, ch, code)):
                return replayed
            if ch.state != "pending" or ch.attempts_left <= 0:
                raise CodeExhausted("challenge is closed")
            now = self.now()
            if now >= ch.code_expires_at:
                raise CodeExpired("code expired")
            if not hmac.compare_digest(ch.code_hash, self._hash(ch.id, code)):
                left = ch.attempts_left - 1
                await conn.execute(
                    update(s.challenges)
                    .where(s.challenges.c.id == ch.id)
                    .values(attempts_left=left, state="pending" if left > 0 else "dead")
                )
                wrong = CodeWrong(left)
                # The attempt must be counted even though we raise: commit, then raise.
                raise_after = wrong
            else:
                raise_after = None
        if raise_after is not None:
            raise raise_after
        async with self.tx() as conn:
            ch = await self._own_challenge(conn, challenge_id, requester)
            # Raced with another confirm of the same challenge: it made the grant.
            if ch.state == "used" and (replayed := await self._replayed(conn, ch, code)):
                return replayed
            if ch.state != "pending":
                raise CodeExhausted("challenge is closed")
            relation = Relation(ch.relation)
            if (
                relation is Relation.RELATIVE
                and await self._recipients(conn, ch.patient_id, requester.id) >= MAX_RECIPIENTS
            ):
                raise GrantLimitReached(MAX_RECIPIENTS)
            await conn.execute(
                update(s.challenges).where(s.challenges.c.id == ch.id).values(state="used")
            )
            patient = await self.patient_row(conn, ch.patient_id)
            grant = await self._create_grant(
                conn,
                patient,
                requester,
                relation,
                Scope(ch.scope),
                ch.access_expires_at,
            )
            if relation is Relation.RELATIVE:
                until = ch.access_expires_at
                await self._sms.send(
                    conn,
                    patient.phone,
                    granted_text(
                        ch.requester_name, Scope(ch.scope), msk_date(until) if until else None
                    ),
                    now,
                )
            return grant

    async def _replayed(self, conn: AsyncConnection, ch: Row[Any], code: str) -> Grant | None:
        """The grant a used challenge made, when its confirm is repeated: the caller died after
        we answered and before it kept the link, and the person types the code again (or the
        update is delivered again). Only for the challenge's own requester (checked by the
        caller), with the right code, within the code's lifetime, and only while that grant is
        still active: nothing new is granted, no SMS is sent, no event is emitted. None
        otherwise (the challenge is closed, as before)."""
        now = self.now()
        if now >= ch.code_expires_at or not hmac.compare_digest(
            ch.code_hash, self._hash(ch.id, code)
        ):
            return None
        g = s.grants
        rows = await conn.execute(
            select(g)
            .where(
                g.c.patient_id == ch.patient_id,
                g.c.requester_id == ch.requester_id,
                g.c.relation == ch.relation,
                g.c.scope == ch.scope,
                g.c.created_at >= ch.created_at,
                g.c.revoked_at.is_(None),
            )
            .order_by(g.c.created_at.desc(), g.c.id)
        )
        for row in rows.all():
            if self.grant_active(row, now) and row.expires_at == ch.access_expires_at:
                return self.grant_model(row, await self.patient_row(conn, ch.patient_id))
        return None
