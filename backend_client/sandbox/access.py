"""Linking cards: SMS-code challenges, grants, children, recipients, revocation."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import (
    AccessDenied,
    CodeExhausted,
    CodeExpired,
    CodeWrong,
    GrantLimitReached,
    InvalidRequest,
    NotFound,
    RateLimited,
)
from backend_client.models import (
    AccessAction,
    AccessLogEntry,
    Challenge,
    EventKind,
    Grant,
    PatientRef,
    Relation,
    Requester,
    Scope,
)
from backend_client.policy import normalize_policy, policy_check_digit_ok
from backend_client.protocol import (
    CHILD_AGE_LIMIT,
    CODE_MAX_ATTEMPTS,
    CODE_TTL_SECONDS,
    MAX_RECIPIENTS,
    RESEND_PAUSE_SECONDS,
    SENDS_PER_DAY,
    SENDS_PER_HOUR,
)
from backend_client.sandbox import schema as s
from backend_client.sandbox.clock import age_on, birthday_in_year, msk_date, msk_midnight
from backend_client.sandbox.core import SandboxCore, check_id
from backend_client.sandbox.lookup_failures import check_not_locked, policy_key, record_failure
from backend_client.sandbox.lookup_failures import ensure_table as ensure_lookup_table
from backend_client.sandbox.sms import (
    code_text_relative,
    code_text_self,
    granted_text,
    mask_phone,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _check_requester(requester: Requester) -> None:
    check_id(requester.id, "requester")
    if not requester.display_name.strip() or len(requester.display_name) > 64:
        raise InvalidRequest("requester")


class AccessMixin(SandboxCore):
    # --- lookup ------------------------------------------------------------------------------

    _lookups_ready = False
    """Whether this file has the ``lookup_failures`` table (made on first use if not)."""

    def _lookup_input(self, policy: str, birth_date: date) -> str:
        """The normalised policy; malformed input is refused before anything is counted."""
        policy = normalize_policy(policy) if isinstance(policy, str) else ""
        if not policy_check_digit_ok(policy):
            raise InvalidRequest("policy")
        if not isinstance(birth_date, date) or birth_date > self.today():
            raise InvalidRequest("birth_date")
        return policy

    async def _look_up(self, policy: str, birth_date: date, requester_id: str | None) -> str:
        """The id of the patient with this policy and birth date.

        Wrong look-ups are counted (``backend_client.lockout``): per policy as typed, and per
        requester when the call names one. In their own transaction, committed before the
        ``NotFound``, so a refusal still counts; under a full cap every look-up is refused with
        ``LookupLocked``, the right one too (else the lock-out would still tell right from
        wrong)."""
        policy = self._lookup_input(policy, birth_date)
        key = policy_key(self._secret, policy)
        now = self.now()
        async with self.tx() as conn:
            if not self._lookups_ready:
                await ensure_lookup_table(conn)
                self._lookups_ready = True
            await check_not_locked(conn, key, requester_id, now)
            row = (
                await conn.execute(select(s.patients).where(s.patients.c.policy == policy))
            ).first()
            # Unknown policy and wrong birth date are deliberately the same answer.
            found = row is not None and hmac.compare_digest(
                row.birth_date.isoformat(), birth_date.isoformat()
            )
            if not found:
                await record_failure(conn, key, requester_id, now)
        if row is None or not found:
            raise NotFound("patient not found")
        return str(row.id)

    async def find_patient(self, policy: str, birth_date: date) -> PatientRef:
        patient_id = await self._look_up(policy, birth_date, None)
        async with self.tx() as conn:
            return self.patient_ref(await self.patient_row(conn, patient_id))

    # --- codes ---------------------------------------------------------------------------------

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

    async def _recipients(
        self, conn: AsyncConnection, patient_id: str, exclude_requester: str | None
    ) -> int:
        rows = (
            await conn.execute(
                select(s.grants).where(
                    s.grants.c.patient_id == patient_id,
                    s.grants.c.relation != Relation.SELF.value,
                    s.grants.c.revoked_at.is_(None),
                )
            )
        ).all()
        now = self.now()
        return len(
            {
                r.requester_id
                for r in rows
                if self.grant_active(r, now) and r.requester_id != exclude_requester
            }
        )

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

    async def request_access(
        self,
        policy: str,
        birth_date: date,
        requester: Requester,
        relation: Relation,
        scope: Scope,
        expires_at: datetime | None = None,
    ) -> Challenge:
        _check_requester(requester)
        if relation not in (Relation.SELF, Relation.RELATIVE):
            raise InvalidRequest("relation")
        if relation is Relation.SELF:
            scope, expires_at = Scope.RECORDS, None
        scope = Scope(scope)
        now = self.now()
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
            raise InvalidRequest("expires_at")
        patient_id = await self._look_up(policy, birth_date, requester.id)
        async with self.tx() as conn:
            patient = await self.patient_row(conn, patient_id)
            if (
                relation is Relation.RELATIVE
                and await self._recipients(conn, patient.id, requester.id) >= MAX_RECIPIENTS
            ):
                raise GrantLimitReached(MAX_RECIPIENTS)
            await self._check_send_limits(conn, patient.id, requester.id)
            # An older pending request of the same person for the same card is superseded.
            await conn.execute(
                update(s.challenges)
                .where(
                    s.challenges.c.patient_id == patient.id,
                    s.challenges.c.requester_id == requester.id,
                    s.challenges.c.state == "pending",
                )
                .values(state="dead")
            )
            row: dict[str, Any] = {
                "id": "ch" + secrets.token_hex(8),
                "patient_id": patient.id,
                "requester_id": requester.id,
                "requester_name": requester.display_name.strip(),
                "relation": relation.value,
                "scope": scope.value,
                "access_expires_at": expires_at,
                "code_expires_at": now + timedelta(seconds=CODE_TTL_SECONDS),
                "resend_available_at": now + timedelta(seconds=RESEND_PAUSE_SECONDS),
                "attempts_left": CODE_MAX_ATTEMPTS,
                "state": "pending",
                "created_at": now,
            }
            row["code_hash"] = await self._send_code(conn, row, patient)
            await conn.execute(insert(s.challenges).values(**row))
            return self._challenge_model(row, patient)

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
        _check_requester(requester)
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
        _check_requester(requester)
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

    async def _create_grant(
        self,
        conn: AsyncConnection,
        patient: Row[Any],
        requester: Requester,
        relation: Relation,
        scope: Scope,
        expires_at: datetime | None,
    ) -> Grant:
        now = self.now()
        # A new link replaces the requester's previous grant on the same card (a SELF link
        # replaces SELF; a relative's or parent's link replaces the other kinds).
        same_kind = (
            s.grants.c.relation == Relation.SELF.value
            if relation is Relation.SELF
            else s.grants.c.relation != Relation.SELF.value
        )
        await conn.execute(
            update(s.grants)
            .where(
                s.grants.c.patient_id == patient.id,
                s.grants.c.requester_id == requester.id,
                s.grants.c.revoked_at.is_(None),
                same_kind,
            )
            .values(revoked_at=now)
        )
        row = {
            "id": "g" + secrets.token_hex(8),
            "patient_id": patient.id,
            "requester_id": requester.id,
            "requester_name": requester.display_name.strip(),
            "relation": relation.value,
            "scope": scope.value,
            "created_at": now,
            "expires_at": expires_at,
            "revoked_at": None,
        }
        await conn.execute(insert(s.grants).values(**row))
        saved = (await conn.execute(select(s.grants).where(s.grants.c.id == row["id"]))).one()
        await self.log_access(conn, saved, AccessAction.GRANTED, None)
        if relation is not Relation.SELF:  # the owner is told about recipients
            await self.emit(
                conn, EventKind.ACCESS_GRANTED, patient_id=patient.id, grant_id=row["id"]
            )
        return self.grant_model(saved, patient)

    # --- children ------------------------------------------------------------------------------

    async def link_child(
        self,
        parent_grant_id: str,
        requester: Requester,
        child_policy: str,
        child_birth_date: date,
    ) -> Grant:
        _check_requester(requester)
        async with self.tx() as conn:  # someone who is nobody's parent here looks nothing up
            await self._own_self_grant(conn, parent_grant_id, requester)
        child_id = await self._look_up(child_policy, child_birth_date, requester.id)
        async with self.tx() as conn:
            parent_grant = await self._own_self_grant(conn, parent_grant_id, requester)
            child = await self.patient_row(conn, child_id)
            link = (
                await conn.execute(
                    select(s.family).where(
                        and_(
                            s.family.c.parent_id == parent_grant.patient_id,
                            s.family.c.child_id == child.id,
                        )
                    )
                )
            ).first()
            if link is None:
                raise AccessDenied(reason=AccessDenied.REASON_NOT_PARENT)
            if age_on(child.birth_date, self.today()) >= CHILD_AGE_LIMIT:
                raise AccessDenied(reason=AccessDenied.REASON_CHILD_TOO_OLD)
            if await self._recipients(conn, child.id, requester.id) >= MAX_RECIPIENTS:
                raise GrantLimitReached(MAX_RECIPIENTS)
            birthday = birthday_in_year(child.birth_date, child.birth_date.year + CHILD_AGE_LIMIT)
            return await self._create_grant(
                conn, child, requester, Relation.CHILD, Scope.RECORDS, msk_midnight(birthday)
            )

    async def _own_self_grant(
        self, conn: AsyncConnection, grant_id: str, requester: Requester
    ) -> Row[Any]:
        check_id(grant_id, "grant_id")
        row = (await conn.execute(select(s.grants).where(s.grants.c.id == grant_id))).first()
        if (
            row is None
            or row.requester_id != requester.id
            or row.relation != Relation.SELF.value
            or not self.grant_active(row, self.now())
        ):
            raise AccessDenied(reason=AccessDenied.REASON_NOT_OWNER)
        return row

    # --- grants ------------------------------------------------------------------------------

    async def get_grant(self, grant_id: str, requester: Requester) -> Grant:
        check_id(grant_id, "grant_id")
        async with self.tx() as conn:
            row = (await conn.execute(select(s.grants).where(s.grants.c.id == grant_id))).first()
            if row is None:
                raise NotFound("grant not found")
            if row.requester_id != requester.id or not self.grant_active(row, self.now()):
                raise AccessDenied(reason=AccessDenied.REASON_GRANT_INACTIVE)
            return self.grant_model(row, await self.patient_row(conn, row.patient_id))

    async def _grants_with_patients(
        self, conn: AsyncConnection, *where: Any
    ) -> list[tuple[Row[Any], Row[Any]]]:
        g, p = s.grants, s.patients
        q = (
            select(g, *[c.label(f"p_{c.name}") for c in p.c])
            .join(p, p.c.id == g.c.patient_id)
            .where(*where)
            .order_by(g.c.created_at.desc(), g.c.id)
        )
        out = []
        now = self.now()
        for r in (await conn.execute(q)).all():
            if not self.grant_active(r, now):
                continue
            patient = _PatientView(r._mapping)
            out.append((r, patient))
        return out  # type: ignore[return-value]

    async def list_grants_received(self, requester_id: str) -> list[Grant]:
        check_id(requester_id, "requester_id")
        async with self.tx() as conn:
            rows = await self._grants_with_patients(conn, s.grants.c.requester_id == requester_id)
            return [self.grant_model(g, p) for g, p in rows]

    async def list_grants_given(self, owner_grant_id: str, requester: Requester) -> list[Grant]:
        async with self.tx() as conn:
            owner = await self._own_self_grant(conn, owner_grant_id, requester)
            rows = await self._grants_with_patients(
                conn,
                s.grants.c.patient_id == owner.patient_id,
                s.grants.c.relation != Relation.SELF.value,
            )
            return [self.grant_model(g, p) for g, p in rows]

    async def revoke_grant(self, grant_id: str, requester: Requester) -> Grant:
        check_id(grant_id, "grant_id")
        async with self.tx() as conn:
            row = (await conn.execute(select(s.grants).where(s.grants.c.id == grant_id))).first()
            if row is None:
                raise NotFound("grant not found")
            allowed = row.requester_id == requester.id
            if not allowed:
                owner = (
                    await conn.execute(
                        select(func.count()).where(
                            s.grants.c.patient_id == row.patient_id,
                            s.grants.c.requester_id == requester.id,
                            s.grants.c.relation == Relation.SELF.value,
                            s.grants.c.revoked_at.is_(None),
                        )
                    )
                ).scalar_one()
                allowed = owner > 0
            if not allowed:
                raise AccessDenied(reason=AccessDenied.REASON_NOT_OWNER)
            if row.revoked_at is None:
                now = self.now()
                await conn.execute(
                    update(s.grants).where(s.grants.c.id == row.id).values(revoked_at=now)
                )
                await self.log_access(conn, row, AccessAction.REVOKED, None)
                if row.relation != Relation.SELF.value:
                    await self.emit(
                        conn, EventKind.ACCESS_REVOKED, patient_id=row.patient_id, grant_id=row.id
                    )
                row = (await conn.execute(select(s.grants).where(s.grants.c.id == grant_id))).one()
            return self.grant_model(row, await self.patient_row(conn, row.patient_id))

    async def access_log(
        self, owner_grant_id: str, requester: Requester, *, limit: int = 50
    ) -> list[AccessLogEntry]:
        if not 1 <= limit <= 500:
            raise InvalidRequest("limit")
        async with self.tx() as conn:
            owner = await self._own_self_grant(conn, owner_grant_id, requester)
            q = (
                select(s.access_log)
                .where(s.access_log.c.patient_id == owner.patient_id)
                .order_by(s.access_log.c.id.desc())
                .limit(limit)
            )
            return [
                AccessLogEntry(
                    at=r.at,
                    requester_name=r.requester_name,
                    relation=Relation(r.relation),
                    action=AccessAction(r.action),
                    detail=r.detail,
                )
                for r in (await conn.execute(q)).all()
            ]


class _PatientView:
    """The ``p_*`` columns of a grant+patient join, shaped like a patients row."""

    def __init__(self, mapping: Any) -> None:
        self.id = mapping["p_id"]
        self.first_name = mapping["p_first_name"]
        self.last_name = mapping["p_last_name"]
        self.birth_date = mapping["p_birth_date"]
