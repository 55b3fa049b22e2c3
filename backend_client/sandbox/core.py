"""Shared machinery of the sandbox backend: engine, transactions, clock, catalog, checks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, event, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend_client.errors import AccessDenied, BackendUnavailable, InvalidRequest
from backend_client.models import (
    AccessAction,
    Clinic,
    Doctor,
    EventKind,
    Grant,
    PatientRef,
    Relation,
    Scope,
    Slot,
    Specialty,
)
from backend_client.sandbox import schema as s
from backend_client.sandbox.clock import Clock, age_on, msk_date
from backend_client.sandbox.sms import SmsGateway

MAX_ID_LENGTH = 64


def install_sqlite_pragmas(engine: AsyncEngine) -> None:
    """WAL + busy timeout (the bot and the admin CLI may open the file at once) and
    ``BEGIN IMMEDIATE`` so a transaction takes the write lock up front instead of failing
    half-way when another process wrote in between."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class Catalog:
    clinics: dict[str, Clinic]
    specialties: dict[str, Specialty]
    audiences: dict[str, str]
    doctors: dict[str, Doctor]


async def load_catalog(conn: AsyncConnection) -> Catalog:
    clinics = {
        r.id: Clinic(clinic_id=r.id, name=r.name, address=r.address)
        for r in (await conn.execute(select(s.clinics))).all()
    }
    spec_rows = (await conn.execute(select(s.specialties))).all()
    specialties = {
        r.code: Specialty(code=r.code, name=r.name, needs_referral=r.needs_referral)
        for r in spec_rows
    }
    doctors = {
        r.id: Doctor(
            doctor_id=r.id,
            full_name=r.full_name,
            specialty=specialties[r.specialty_code],
            clinic=clinics[r.clinic_id],
            cabinet=r.cabinet,
        )
        for r in (await conn.execute(select(s.doctors))).all()
    }
    return Catalog(clinics, specialties, {r.code: r.audience for r in spec_rows}, doctors)


def short_name(first: str, last: str) -> str:
    return f"{first} {last[0]}."


def check_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise InvalidRequest(field)
    return value


class SandboxCore:
    """State shared by the sandbox's feature mixins."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        seed: int,
        secret: bytes,
        sms: SmsGateway,
        catalog: Catalog,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._seed = seed
        self._secret = secret
        self._sms = sms
        self._catalog = catalog
        self.one_visit_per_specialty = False
        """EMIAS's rule: one active future visit per specialty (`book` -> `AlreadyBooked`)."""
        # One writer at a time inside this process; SQLite serialises across processes.
        self._lock = asyncio.Lock()
        self._closed = False

    def now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the sandbox clock must return aware datetimes")
        return moment.astimezone(UTC)

    def today(self) -> date:
        return msk_date(self.now())

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise BackendUnavailable("sandbox closed")
        try:
            async with self._lock, self._engine.begin() as conn:
                yield conn
        except OperationalError as exc:  # locked / disk trouble: nothing was committed
            raise BackendUnavailable("sandbox database unavailable") from exc

    # --- patients and grants -------------------------------------------------------------

    def patient_ref(self, row: Row[Any]) -> PatientRef:
        return PatientRef(
            patient_id=row.id,
            display_name=short_name(row.first_name, row.last_name),
            birth_date=row.birth_date,
            age=age_on(row.birth_date, self.today()),
        )

    async def patient_row(self, conn: AsyncConnection, patient_id: str) -> Row[Any]:
        row = (await conn.execute(select(s.patients).where(s.patients.c.id == patient_id))).first()
        assert row is not None, "grant points to a missing patient"
        return row

    def grant_model(self, row: Row[Any], patient: Row[Any]) -> Grant:
        return Grant(
            grant_id=row.id,
            patient=self.patient_ref(patient),
            requester_id=row.requester_id,
            requester_name=row.requester_name,
            relation=Relation(row.relation),
            scope=Scope(row.scope),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )

    def grant_active(self, row: Row[Any], now: datetime) -> bool:
        if row.revoked_at is not None:
            return False
        return row.expires_at is None or now < row.expires_at

    async def require_grant(
        self, conn: AsyncConnection, grant_id: str, requester_id: str, needed: Scope
    ) -> Row[Any]:
        """The grant row if it is the requester's, active now and wide enough."""
        check_id(grant_id, "grant_id")
        check_id(requester_id, "requester_id")
        row = (await conn.execute(select(s.grants).where(s.grants.c.id == grant_id))).first()
        # Unknown and someone else's grant look the same: no probing of grant ids.
        if row is None or row.requester_id != requester_id:
            raise AccessDenied(reason=AccessDenied.REASON_GRANT_INACTIVE)
        if not self.grant_active(row, self.now()):
            raise AccessDenied(reason=AccessDenied.REASON_GRANT_INACTIVE)
        if not Scope(row.scope).allows(needed):
            raise AccessDenied(reason=AccessDenied.REASON_SCOPE)
        return row

    async def log_access(
        self, conn: AsyncConnection, grant: Row[Any], action: AccessAction, detail: str | None
    ) -> None:
        await conn.execute(
            insert(s.access_log).values(
                patient_id=grant.patient_id,
                at=self.now(),
                requester_name=grant.requester_name,
                relation=grant.relation,
                action=action.value,
                detail=detail,
            )
        )

    # --- slots and events ----------------------------------------------------------------

    def slot_model(self, row: Row[Any]) -> Slot:
        return Slot(
            slot_id=row.id,
            doctor_id=row.doctor_id,
            starts_at=row.starts_at,
            duration_min=row.duration_min,
            clinic_id=row.clinic_id,
            specialty_code=row.specialty_code,
        )

    async def emit(
        self,
        conn: AsyncConnection,
        kind: EventKind,
        *,
        patient_id: str | None = None,
        entry_id: str | None = None,
        section: str | None = None,
        appointment_id: str | None = None,
        slot: Slot | None = None,
        doctor_id: str | None = None,
        grant_id: str | None = None,
    ) -> None:
        await conn.execute(
            insert(s.events).values(
                kind=kind.value,
                occurred_at=self.now(),
                patient_id=patient_id,
                entry_id=entry_id,
                section=section,
                appointment_id=appointment_id,
                slot=json.dumps(slot.model_dump(mode="json")) if slot else None,
                doctor_id=doctor_id or (slot.doctor_id if slot else None),
                grant_id=grant_id,
            )
        )
