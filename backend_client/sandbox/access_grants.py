"""Grants: creating and replacing them, listing, revoking, the owner's access log."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import AccessDenied, InvalidRequest, NotFound
from backend_client.models import (
    AccessAction,
    AccessLogEntry,
    EventKind,
    Grant,
    Relation,
    Requester,
    Scope,
)
from backend_client.sandbox import schema as s
from backend_client.sandbox.core import SandboxCore, check_id


def check_requester(requester: Requester) -> None:
    check_id(requester.id, "requester")
    if not requester.display_name.strip() or len(requester.display_name) > 64:
        raise InvalidRequest("requester")


class GrantsMixin(SandboxCore):
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
