"""Appointments: what may be booked, free slots, booking, rescheduling, cancelling.

Safe under concurrency: a slot is taken with a conditional ``UPDATE ... WHERE state='free'`` and
the row count decides the winner, inside one transaction with the appointment insert and the
idempotency record (whose primary key makes a retried request a no-op).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import AccessDenied, InvalidRequest, NotFound, SlotTaken
from backend_client.models import (
    AccessAction,
    Appointment,
    AppointmentStatus,
    Doctor,
    EventKind,
    Referral,
    Scope,
    Slot,
    Specialty,
)
from backend_client.sandbox import schema as s
from backend_client.sandbox.catalog import ATTACHMENT_GROUPS, DoctorDef
from backend_client.sandbox.clock import age_on, msk_midnight
from backend_client.sandbox.core import SandboxCore, check_id
from backend_client.sandbox.seed import SLOT_WINDOW_DAYS, slots_for_days

MAX_RANGE_DAYS = 31


class BookingMixin(SandboxCore):
    _slots_through: date

    # --- what the patient may book -----------------------------------------------------------

    def _allowed(self, patient: Row[Any], code: str) -> bool:
        audience = self._catalog.audiences[code]
        age = age_on(patient.birth_date, self.today())
        child = age < 18
        return {
            "any": True,
            "adult": not child,
            "child": child,
            "male": not child and patient.sex == "M",
            "female": not child and patient.sex == "F",
        }[audience]

    def _clinics_for(self, patient: Row[Any]) -> list[str]:
        return ATTACHMENT_GROUPS.get(patient.clinic_id, [patient.clinic_id])

    async def list_specialties(self, grant_id: str, requester_id: str) -> list[Specialty]:
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            patient = await self.patient_row(conn, grant.patient_id)
        clinics = set(self._clinics_for(patient))
        offered = {
            d.specialty.code
            for d in self._catalog.doctors.values()
            if d.clinic.clinic_id in clinics
        }
        return [
            sp
            for sp in self._catalog.specialties.values()
            if not sp.needs_referral and sp.code in offered and self._allowed(patient, sp.code)
        ]

    def _referral_model(self, r: Row[Any]) -> Referral:
        return Referral(
            referral_id=r.id,
            specialty=self._catalog.specialties[r.specialty_code],
            issued_at=r.issued_at,
            valid_until=r.valid_until,
            issued_by=r.issued_by,
            clinic=self._catalog.clinics.get(r.clinic_id) if r.clinic_id else None,
            diagnosis=r.diagnosis,
            entry_id=r.entry_id,
        )

    async def _active_referrals(self, conn: AsyncConnection, patient_id: str) -> list[Row[Any]]:
        today = self.today()
        r = s.referrals
        q = (
            select(r)
            .where(
                r.c.patient_id == patient_id,
                r.c.issued_at <= today,
                r.c.valid_until >= today,
                r.c.used_by.is_(None),
            )
            .order_by(r.c.valid_until, r.c.id)
        )
        return list((await conn.execute(q)).all())

    async def list_referrals(self, grant_id: str, requester_id: str) -> list[Referral]:
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            rows = await self._active_referrals(conn, grant.patient_id)
            hide_diagnosis = not Scope(grant.scope).allows(Scope.RECORDS)
        refs = [self._referral_model(r) for r in rows]
        if hide_diagnosis:  # the reason is medical content: records scope only
            refs = [r.model_copy(update={"diagnosis": None}) for r in refs]
        return refs

    async def _referral_for(
        self, conn: AsyncConnection, patient_id: str, referral_id: str
    ) -> Row[Any]:
        check_id(referral_id, "referral_id")
        for r in await self._active_referrals(conn, patient_id):
            if r.id == referral_id:
                return r
        raise NotFound("referral not found or no longer valid")

    async def list_doctors(
        self,
        grant_id: str,
        requester_id: str,
        *,
        specialty_code: str | None = None,
        referral_id: str | None = None,
    ) -> list[Doctor]:
        if (specialty_code is None) == (referral_id is None):
            raise InvalidRequest("specialty_code")
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            patient = await self.patient_row(conn, grant.patient_id)
            if referral_id is not None:
                ref = await self._referral_for(conn, patient.id, referral_id)
                code = ref.specialty_code
                clinics = [ref.clinic_id] if ref.clinic_id else self._clinics_for(patient)
            else:
                assert specialty_code is not None
                code = specialty_code
                spec = self._catalog.specialties.get(code)
                if spec is None:
                    raise NotFound("specialty not found")
                if spec.needs_referral:
                    raise AccessDenied(reason=AccessDenied.REASON_REFERRAL_REQUIRED)
                if not self._allowed(patient, code):
                    return []
                clinics = self._clinics_for(patient)
        return [
            d
            for d in self._catalog.doctors.values()
            if d.specialty.code == code and d.clinic.clinic_id in clinics
        ]

    # --- slots -----------------------------------------------------------------------------

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

    # --- booking ---------------------------------------------------------------------------

    def _appointment_model(self, r: Row[Any]) -> Appointment:
        status = AppointmentStatus(r.status)
        # Nobody marks visits as done in the sandbox: a booked visit in the past counts as done.
        end = r.starts_at + timedelta(minutes=r.duration_min)
        if status in (AppointmentStatus.BOOKED, AppointmentStatus.MOVED) and end <= self.now():
            status = AppointmentStatus.COMPLETED
        return Appointment(
            appointment_id=r.id,
            patient_id=r.patient_id,
            doctor=self._catalog.doctors[r.doctor_id],
            slot_id=r.slot_id,
            starts_at=r.starts_at,
            duration_min=r.duration_min,
            status=status,
            referral_id=r.referral_id,
            previous_starts_at=r.previous_starts_at,
        )

    async def _appointment_row(self, conn: AsyncConnection, appointment_id: str) -> Row[Any]:
        check_id(appointment_id, "appointment_id")
        row = (
            await conn.execute(select(s.appointments).where(s.appointments.c.id == appointment_id))
        ).first()
        if row is None:
            raise NotFound("appointment not found")
        return row

    async def _idempotent(
        self, conn: AsyncConnection, requester_id: str, key: str, operation: str, target: str
    ) -> Row[Any] | None:
        """The appointment produced by an earlier request with this key, if any."""
        if not isinstance(key, str) or not 8 <= len(key) <= 128:
            raise InvalidRequest("idempotency_key")
        prior = (
            await conn.execute(
                select(s.idempotency).where(
                    s.idempotency.c.requester_id == requester_id, s.idempotency.c.key == key
                )
            )
        ).first()
        if prior is None:
            return None
        if prior.operation != operation or prior.target != target:
            raise InvalidRequest("idempotency_key")  # the key was used for something else
        return await self._appointment_row(conn, prior.appointment_id)

    async def _take_slot(
        self, conn: AsyncConnection, slot_id: str, appointment_id: str
    ) -> Row[Any]:
        sl = s.slots
        check_id(slot_id, "slot_id")
        row = (await conn.execute(select(sl).where(sl.c.id == slot_id))).first()
        if row is None:
            raise NotFound("slot not found")
        result = await conn.execute(
            update(sl)
            .where(sl.c.id == slot_id, sl.c.state == "free", sl.c.starts_at > self.now())
            .values(state="taken", appointment_id=appointment_id)
        )
        if result.rowcount != 1:
            raise SlotTaken("slot is not free")
        return row

    async def _release_slot(self, conn: AsyncConnection, slot_id: str) -> None:
        sl = s.slots
        row = (await conn.execute(select(sl).where(sl.c.id == slot_id))).first()
        if row is None or row.starts_at <= self.now():
            return  # a past slot is gone, nothing to announce
        await conn.execute(
            update(sl).where(sl.c.id == slot_id).values(state="free", appointment_id=None)
        )
        await self.emit(conn, EventKind.SLOT_FREED, slot=self.slot_model(row))

    async def book(
        self,
        grant_id: str,
        requester_id: str,
        slot_id: str,
        idempotency_key: str,
        referral_id: str | None = None,
    ) -> Appointment:
        await self.ensure_slots()
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            prior = await self._idempotent(conn, requester_id, idempotency_key, "book", slot_id)
            if prior is not None:
                return self._appointment_model(prior)
            check_id(slot_id, "slot_id")
            slot = (await conn.execute(select(s.slots).where(s.slots.c.id == slot_id))).first()
            if slot is None:
                raise NotFound("slot not found")
            patient = await self.patient_row(conn, grant.patient_id)
            spec = self._catalog.specialties[slot.specialty_code]
            if referral_id is not None:
                ref = await self._referral_for(conn, patient.id, referral_id)
                if ref.specialty_code != spec.code:
                    raise InvalidRequest("referral_id")
            elif spec.needs_referral:
                raise AccessDenied(reason=AccessDenied.REASON_REFERRAL_REQUIRED)
            if not self._allowed(patient, spec.code):
                raise InvalidRequest("slot_id")
            appointment_id = "a" + secrets.token_hex(6)
            await self._take_slot(conn, slot_id, appointment_id)
            now = self.now()
            await conn.execute(
                insert(s.appointments).values(
                    id=appointment_id,
                    patient_id=patient.id,
                    doctor_id=slot.doctor_id,
                    slot_id=slot.id,
                    starts_at=slot.starts_at,
                    duration_min=slot.duration_min,
                    status=AppointmentStatus.BOOKED.value,
                    referral_id=referral_id,
                    previous_starts_at=None,
                    created_at=now,
                )
            )
            if referral_id is not None:
                await conn.execute(
                    update(s.referrals)
                    .where(s.referrals.c.id == referral_id)
                    .values(used_by=appointment_id)
                )
            await conn.execute(
                insert(s.idempotency).values(
                    requester_id=requester_id,
                    key=idempotency_key,
                    operation="book",
                    target=slot_id,
                    appointment_id=appointment_id,
                )
            )
            await self.log_access(conn, grant, AccessAction.BOOKED, spec.name)
            return self._appointment_model(await self._appointment_row(conn, appointment_id))

    async def _own_appointment(
        self, conn: AsyncConnection, grant: Row[Any], appointment_id: str
    ) -> Row[Any]:
        row = await self._appointment_row(conn, appointment_id)
        if row.patient_id != grant.patient_id:  # another patient's: indistinguishable from unknown
            raise NotFound("appointment not found")
        return row

    def _is_future_active(self, row: Row[Any]) -> bool:
        return row.status in ("booked", "moved") and row.starts_at > self.now()

    async def reschedule(
        self,
        grant_id: str,
        requester_id: str,
        appointment_id: str,
        new_slot_id: str,
        idempotency_key: str,
    ) -> Appointment:
        await self.ensure_slots()
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            prior = await self._idempotent(
                conn, requester_id, idempotency_key, "reschedule", new_slot_id
            )
            if prior is not None:
                return self._appointment_model(prior)
            appt = await self._own_appointment(conn, grant, appointment_id)
            if not self._is_future_active(appt):
                raise InvalidRequest("appointment_id")
            check_id(new_slot_id, "new_slot_id")
            new = (await conn.execute(select(s.slots).where(s.slots.c.id == new_slot_id))).first()
            if new is None:
                raise NotFound("slot not found")
            old_doctor = self._catalog.doctors[appt.doctor_id]
            if new.doctor_id != appt.doctor_id and new.specialty_code != old_doctor.specialty.code:
                raise InvalidRequest("new_slot_id")
            # Take the new slot first: if that fails the transaction rolls back untouched.
            await self._take_slot(conn, new_slot_id, appt.id)
            await self._release_slot(conn, appt.slot_id)
            await conn.execute(
                update(s.appointments)
                .where(s.appointments.c.id == appt.id)
                .values(
                    doctor_id=new.doctor_id,
                    slot_id=new.id,
                    starts_at=new.starts_at,
                    duration_min=new.duration_min,
                    status=AppointmentStatus.BOOKED.value,
                    previous_starts_at=appt.starts_at,
                )
            )
            await conn.execute(
                insert(s.idempotency).values(
                    requester_id=requester_id,
                    key=idempotency_key,
                    operation="reschedule",
                    target=new_slot_id,
                    appointment_id=appt.id,
                )
            )
            await self.log_access(conn, grant, AccessAction.RESCHEDULED, old_doctor.specialty.name)
            return self._appointment_model(await self._appointment_row(conn, appt.id))

    async def cancel_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            appt = await self._own_appointment(conn, grant, appointment_id)
            if appt.status in ("cancelled", "cancelled_by_clinic"):
                return self._appointment_model(appt)
            if not self._is_future_active(appt):
                raise InvalidRequest("appointment_id")
            await conn.execute(
                update(s.appointments)
                .where(s.appointments.c.id == appt.id)
                .values(status=AppointmentStatus.CANCELLED.value)
            )
            if appt.referral_id:  # the referral may be used again
                await conn.execute(
                    update(s.referrals)
                    .where(s.referrals.c.id == appt.referral_id)
                    .values(used_by=None)
                )
            await self._release_slot(conn, appt.slot_id)
            await self.log_access(
                conn,
                grant,
                AccessAction.CANCELLED,
                self._catalog.doctors[appt.doctor_id].specialty.name,
            )
            return self._appointment_model(await self._appointment_row(conn, appt.id))

    async def list_appointments(
        self, grant_id: str, requester_id: str, *, upcoming: bool | None = None
    ) -> list[Appointment]:
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            rows = (
                await conn.execute(
                    select(s.appointments)
                    .where(s.appointments.c.patient_id == grant.patient_id)
                    .order_by(s.appointments.c.starts_at.desc(), s.appointments.c.id)
                )
            ).all()
        if upcoming is True:
            return [self._appointment_model(r) for r in reversed(rows) if self._is_future_active(r)]
        if upcoming is False:
            return [self._appointment_model(r) for r in rows if not self._is_future_active(r)]
        return [self._appointment_model(r) for r in rows]

    async def get_appointment(
        self, grant_id: str, requester_id: str, appointment_id: str
    ) -> Appointment:
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.APPOINTMENTS)
            return self._appointment_model(await self._own_appointment(conn, grant, appointment_id))


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
