"""Appointments: what may be booked, free slots, booking, rescheduling, cancelling.

Safe under concurrency: a slot is taken with a conditional ``UPDATE ... WHERE state='free'`` and
the row count decides the winner, inside one transaction with the appointment insert and the
idempotency record (whose primary key makes a retried request a no-op).

What may be booked lives in ``booking_options``, free slots in ``booking_slots``; this module
books, reschedules and cancels.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import (
    AccessDenied,
    AlreadyBooked,
    InvalidRequest,
    NotFound,
    SlotTaken,
)
from backend_client.models import AccessAction, Appointment, AppointmentStatus, EventKind, Scope
from backend_client.sandbox import schema as s
from backend_client.sandbox.booking_options import BookingOptionsMixin
from backend_client.sandbox.booking_slots import SlotsMixin
from backend_client.sandbox.core import check_id


class BookingMixin(BookingOptionsMixin, SlotsMixin):
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
            # After the slot (a lost race stays `SlotTaken`); refusing rolls the take back.
            await self._one_per_specialty(conn, patient.id, spec.code)
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

    async def _one_per_specialty(
        self, conn: AsyncConnection, patient_id: str, specialty_code: str
    ) -> None:
        """As EMIAS: one active future visit per specialty; another is `AlreadyBooked`."""
        if not self.one_visit_per_specialty:
            return
        a = s.appointments
        rows = await conn.execute(
            select(a)
            .where(a.c.patient_id == patient_id, a.c.status.in_(("booked", "moved")))
            .order_by(a.c.starts_at)
        )
        for row in rows.all():
            doctor = self._catalog.doctors.get(row.doctor_id)
            same = doctor is not None and doctor.specialty.code == specialty_code
            if same and self._is_future_active(row):
                raise AlreadyBooked(row.id)

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
