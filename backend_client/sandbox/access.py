"""Linking cards: looking a card up by policy and birth date, and the calls that start from a
look-up (an SMS-code challenge, a parent linking a child).

Challenges and codes live in ``access_codes``, grants and revocation in ``access_grants``.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update

from backend_client.errors import AccessDenied, GrantLimitReached, InvalidRequest, NotFound
from backend_client.models import Challenge, Grant, PatientRef, Relation, Requester, Scope
from backend_client.policy import normalize_policy, policy_check_digit_ok
from backend_client.protocol import (
    CHILD_AGE_LIMIT,
    CODE_MAX_ATTEMPTS,
    CODE_TTL_SECONDS,
    MAX_RECIPIENTS,
    RESEND_PAUSE_SECONDS,
)
from backend_client.sandbox import schema as s
from backend_client.sandbox.access_codes import ChallengesMixin
from backend_client.sandbox.access_grants import check_requester
from backend_client.sandbox.clock import age_on, birthday_in_year, msk_midnight
from backend_client.sandbox.lookup_failures import check_not_locked, policy_key, record_failure
from backend_client.sandbox.lookup_failures import ensure_table as ensure_lookup_table


class AccessMixin(ChallengesMixin):
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

    async def request_access(
        self,
        policy: str,
        birth_date: date,
        requester: Requester,
        relation: Relation,
        scope: Scope,
        expires_at: datetime | None = None,
    ) -> Challenge:
        check_requester(requester)
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

    # --- children ------------------------------------------------------------------------------

    async def link_child(
        self,
        parent_grant_id: str,
        requester: Requester,
        child_policy: str,
        child_birth_date: date,
    ) -> Grant:
        check_requester(requester)
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
