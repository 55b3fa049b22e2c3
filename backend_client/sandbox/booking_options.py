"""What a patient may book: specialties without referral, active referrals, doctors."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import AccessDenied, InvalidRequest, NotFound
from backend_client.models import Doctor, Referral, Scope, Specialty
from backend_client.sandbox import schema as s
from backend_client.sandbox.catalog import ATTACHMENT_GROUPS
from backend_client.sandbox.clock import age_on
from backend_client.sandbox.core import SandboxCore, check_id


class BookingOptionsMixin(SandboxCore):
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
        district = self.district_doctor_id(patient)
        return [
            d.model_copy(update={"district": True}) if d.doctor_id == district else d
            for d in self._catalog.doctors.values()
            if d.specialty.code == code and d.clinic.clinic_id in clinics
        ]

    def district_doctor_id(self, patient: Row[Any]) -> str | None:
        """The patient's attached doctor: a therapist (a paediatrician for a child) of the
        patient's own clinic, fixed per patient as an attachment is (a stable hash, no state)."""
        code = "pediatrician" if age_on(patient.birth_date, self.today()) < 18 else "therapist"
        ids = sorted(
            d.doctor_id
            for d in self._catalog.doctors.values()
            if d.specialty.code == code and d.clinic.clinic_id == patient.clinic_id
        )
        return ids[zlib.crc32(patient.id.encode()) % len(ids)] if ids else None
