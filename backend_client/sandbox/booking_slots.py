"""Free slots: the rolling schedule window and slot searches."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import InvalidRequest, NotFound
from backend_client.models import Doctor, Scope, Slot
from backend_client.sandbox import schema as s
from backend_client.sandbox.catalog import DoctorDef
from backend_client.sandbox.clock import msk_midnight
from backend_client.sandbox.core import SandboxCore, check_id
from backend_client.sandbox.seed_schedule import SLOT_WINDOW_DAYS, slots_for_days

MAX_RANGE_DAYS = 31


class SlotsMixin(SandboxCore):
    _slots_through: date

    async def ensure_slots(self) -> None:
        """Keep a 14-day window of schedule as days pass (same seed -> same new days)."""
        today = self.today()
        last = today + timedelta(days=SLOT_WINDOW_DAYS - 1)
        if self._slots_through >= last:
            return
        first = max(today, self._slots_through + timedelta(days=1))
        rows = slots_for_days(
            self._seed,
            _doctor_defs(self._catalog.doctors.values(), await self._shifts()),
            today,
            first,
            (last - first).days + 1,
        )
        async with self.tx() as conn:
            existing = set(
                (
                    await conn.execute(
                        select(s.slots.c.id).where(s.slots.c.starts_at >= msk_midnight(first))
                    )
                ).scalars()
            )
            rows = [r for r in rows if r["id"] not in existing]
            if rows:
                await conn.execute(insert(s.slots), rows)
            await conn.execute(
                update(s.meta).where(s.meta.c.key == "slots_through").values(value=last.isoformat())
            )
        self._slots_through = last

    async def _shifts(self) -> dict[str, str]:
        async with self.tx() as conn:
            rows = (await conn.execute(select(s.doctors.c.id, s.doctors.c.shift))).all()
        return {r.id: r.shift for r in rows}

    def _check_range(self, date_from: date, date_to: date) -> None:
        if not isinstance(date_from, date) or not isinstance(date_to, date):
            raise InvalidRequest("date_from")
        if date_to < date_from or (date_to - date_from).days > MAX_RANGE_DAYS:
            raise InvalidRequest("date_to")

    async def _free(
        self, conn: AsyncConnection, *where: Any, date_from: date, date_to: date
    ) -> list[Slot]:
        sl = s.slots
        lo = max(msk_midnight(date_from), self.now())
        hi = msk_midnight(date_to + timedelta(days=1))
        q = (
            select(sl)
            .where(*where, sl.c.state == "free", sl.c.starts_at > lo, sl.c.starts_at < hi)
            .order_by(sl.c.starts_at, sl.c.id)
        )
        return [self.slot_model(r) for r in (await conn.execute(q)).all()]

    async def free_slots(
        self,
        grant_id: str,
        requester_id: str,
        doctor_id: str,
        date_from: date,
        date_to: date,
    ) -> list[Slot]:
        self._check_range(date_from, date_to)
        check_id(doctor_id, "doctor_id")
        await self.ensure_slots()
        async with self.tx() as conn:
            await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            if doctor_id not in self._catalog.doctors:
                raise NotFound("doctor not found")
            return await self._free(
                conn, s.slots.c.doctor_id == doctor_id, date_from=date_from, date_to=date_to
            )

    async def search_free_slots(
        self,
        *,
        doctor_id: str | None = None,
        specialty_code: str | None = None,
        clinic_id: str | None = None,
        date_from: date,
        date_to: date,
    ) -> list[Slot]:
        self._check_range(date_from, date_to)
        where: list[Any] = []
        if doctor_id is not None:
            if doctor_id not in self._catalog.doctors:
                raise NotFound("doctor not found")
            where.append(s.slots.c.doctor_id == doctor_id)
        elif specialty_code is not None:
            if specialty_code not in self._catalog.specialties:
                raise NotFound("specialty not found")
            where.append(s.slots.c.specialty_code == specialty_code)
        else:
            raise InvalidRequest("doctor_id")
        if clinic_id is not None:
            if clinic_id not in self._catalog.clinics:
                raise NotFound("clinic not found")
            where.append(s.slots.c.clinic_id == clinic_id)
        await self.ensure_slots()
        async with self.tx() as conn:
            return await self._free(conn, *where, date_from=date_from, date_to=date_to)


def _doctor_defs(doctors: Iterable[Doctor], shifts: dict[str, str]) -> list[DoctorDef]:
    return [
        DoctorDef(
            id=d.doctor_id,
            full_name=d.full_name,
            specialty_code=d.specialty.code,
            clinic_id=d.clinic.clinic_id,
            cabinet=d.cabinet or "",
            shift=shifts[d.doctor_id],
        )
        for d in doctors
    ]
