"""Clinic-side simulation for demos and tests (not part of the protocol): new results,
clinic cancellations and moves, freed slots, demo personas, the SMS outbox."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from backend_client.errors import InvalidRequest, NotFound, SlotTaken
from backend_client.models import Appointment, AppointmentStatus, EventKind, Section
from backend_client.policy import normalize_policy
from backend_client.sandbox import schema as s
from backend_client.sandbox.booking import BookingMixin
from backend_client.sandbox.clock import age_on, birthday_in_year
from backend_client.sandbox.history_drafts import LAB_NAME, EntryDraft
from backend_client.sandbox.labs import PANELS, measure
from backend_client.sandbox.sms import SmsMessage, read_outbox

PERSONA_ORDER = [
    "mother",
    "elderly_mother",
    "father",
    "teen_turning_15",
    "child",
    "elderly_father",
    "adult_son",
    "single",
]
PERSONA_ROLES = {
    "mother": "мама двоих детей; дочь пожилой мамы (SELF + CHILD + RELATIVE)",
    "elderly_mother": "пожилая мама: диабет 2 типа (тренд HbA1c), гипертония, направления",
    "father": "папа тех же детей",
    "teen_turning_15": "подросток: скоро 15 — автоматический доступ родителей закончится",
    "child": "ребёнок 8 лет: календарь прививок, профосмотры",
    "elderly_father": "пожилой отец: ИБС, выписка из стационара, ХОБЛ",
    "adult_son": "взрослый сын пожилого отца",
    "single": "молодой человек без родственников в регистре",
}


@dataclass(frozen=True)
class Persona:
    key: str
    role: str
    full_name: str
    policy: str
    birth_date: date
    phone: str
    patient_id: str
    family: list[str]  # "мать: Кузнецова Галина Петровна", ...


class SimulationMixin(BookingMixin):
    async def _patient_id(self, patient_id: str | None, policy: str | None) -> str:
        async with self.tx() as conn:
            q = select(s.patients.c.id)
            if patient_id is not None:
                q = q.where(s.patients.c.id == patient_id)
            elif policy is not None:
                q = q.where(s.patients.c.policy == normalize_policy(policy))
            else:
                raise InvalidRequest("patient_id")
            found = (await conn.execute(q)).scalar()
        if found is None:
            raise NotFound("patient not found")
        return str(found)

    async def publish_result(
        self,
        *,
        patient_id: str | None = None,
        policy: str | None = None,
        panel: str = "cbc",
        abnormal: bool = False,
    ) -> str:
        """A new lab result for the patient dated today; emits ``result_ready``; returns the
        entry id. ``panel``: cbc, bio, lipid, hba1c, thyroid, ferritin, psa, urine."""
        if panel not in PANELS:
            raise InvalidRequest("panel")
        pid = await self._patient_id(patient_id, policy)
        rng = random.Random(secrets.randbits(64))
        now = self.now()
        today = self.today()
        async with self.tx() as conn:
            p = await self.patient_row(conn, pid)
            definition = PANELS[panel]
            # Clinically plausible deviations, not random extremes.
            means = ABNORMAL.get(panel, {}) if abnormal else {}
            child = age_on(p.birth_date, today) < 15
            results = [measure(rng, c, p.sex, means.get(c), child=child) for c in definition.codes]
            entry_id = "e" + secrets.token_hex(6)
            draft = EntryDraft(
                entry_id,
                Section.LABS,
                definition.title,
                today,
                now,
                "Лабораторная служба",
                "Врач клинической лабораторной диагностики",
                LAB_NAME,
                [
                    ("Биоматериал", definition.material),
                    ("Взятие биоматериала", today.strftime("%d.%m.%Y")),
                ],
                panels=[(definition.name, results)],
            )
            await conn.execute(
                insert(s.entries).values(
                    id=entry_id,
                    patient_id=pid,
                    section=Section.LABS.value,
                    title=draft.title,
                    date=today,
                    performed_at=now,
                    doctor_name=draft.doctor_name,
                    doctor_specialty=draft.doctor_specialty,
                    clinic_name=draft.clinic_name,
                    has_abnormal=draft.has_abnormal,
                    body=draft.body(),
                )
            )
            rows = [
                {
                    "patient_id": pid,
                    "code": m.code,
                    "name": m.name,
                    "unit": m.unit,
                    "ref_low": m.ref_low,
                    "ref_high": m.ref_high,
                    "value": m.value,
                    "flag": m.flag.value if m.flag else None,
                    "date": today,
                    "entry_id": entry_id,
                }
                for m in results
                if m.value is not None
            ]
            await conn.execute(insert(s.analyte_values), rows)
            await self.emit(
                conn,
                EventKind.RESULT_READY,
                patient_id=pid,
                entry_id=entry_id,
                section=Section.LABS.value,
            )
        return entry_id

    async def clinic_cancel(self, appointment_id: str) -> Appointment:
        """The clinic cancels a visit (doctor ill...): ``appointment_cancelled``; the slot is
        blocked, not freed."""
        async with self.tx() as conn:
            appt = await self._appointment_row(conn, appointment_id)
            if not self._is_future_active(appt):
                raise InvalidRequest("appointment_id")
            await conn.execute(
                update(s.appointments)
                .where(s.appointments.c.id == appt.id)
                .values(status=AppointmentStatus.CANCELLED_BY_CLINIC.value)
            )
            await conn.execute(
                update(s.slots).where(s.slots.c.id == appt.slot_id).values(state="blocked")
            )
            await self.emit(
                conn,
                EventKind.APPOINTMENT_CANCELLED,
                patient_id=appt.patient_id,
                appointment_id=appt.id,
                doctor_id=appt.doctor_id,
            )
            return self._appointment_model(await self._appointment_row(conn, appt.id))

    async def clinic_move(self, appointment_id: str, new_slot_id: str | None = None) -> Appointment:
        """The clinic moves a visit to another free slot (the next free one of the same doctor
        if none given): status ``moved``, ``appointment_moved`` event."""
        async with self.tx() as conn:
            appt = await self._appointment_row(conn, appointment_id)
            if not self._is_future_active(appt):
                raise InvalidRequest("appointment_id")
            if new_slot_id is None:
                q = (
                    select(s.slots.c.id)
                    .where(
                        s.slots.c.doctor_id == appt.doctor_id,
                        s.slots.c.state == "free",
                        s.slots.c.starts_at > self.now(),
                    )
                    .order_by(s.slots.c.starts_at)
                    .limit(1)
                )
                new_slot_id = (await conn.execute(q)).scalar()
                if new_slot_id is None:
                    raise SlotTaken("no free slot to move to")
            new = await self._take_slot(conn, new_slot_id, appt.id)
            await conn.execute(
                update(s.slots).where(s.slots.c.id == appt.slot_id).values(state="blocked")
            )
            await conn.execute(
                update(s.appointments)
                .where(s.appointments.c.id == appt.id)
                .values(
                    doctor_id=new.doctor_id,
                    slot_id=new.id,
                    starts_at=new.starts_at,
                    duration_min=new.duration_min,
                    status=AppointmentStatus.MOVED.value,
                    previous_starts_at=appt.starts_at,
                )
            )
            await self.emit(
                conn,
                EventKind.APPOINTMENT_MOVED,
                patient_id=appt.patient_id,
                appointment_id=appt.id,
                doctor_id=new.doctor_id,
            )
            return self._appointment_model(await self._appointment_row(conn, appt.id))

    async def appointments_of(self, policy: str) -> list[Appointment]:
        """All visits of the patient with this policy (admin view, no grant)."""
        pid = await self._patient_id(None, policy)
        async with self.tx() as conn:
            rows = (
                await conn.execute(
                    select(s.appointments)
                    .where(s.appointments.c.patient_id == pid)
                    .order_by(s.appointments.c.starts_at.desc())
                )
            ).all()
        return [self._appointment_model(r) for r in rows]

    async def free_slot(self, slot_id: str) -> None:
        """Someone outside the sandbox cancelled: a taken slot becomes free (``slot_freed``)."""
        async with self.tx() as conn:
            row = (await conn.execute(select(s.slots).where(s.slots.c.id == slot_id))).first()
            if row is None:
                raise NotFound("slot not found")
            if row.appointment_id is not None:
                raise InvalidRequest("slot_id")  # ours: cancel the appointment instead
            if row.state == "free":
                return
            await conn.execute(update(s.slots).where(s.slots.c.id == slot_id).values(state="free"))
            await self.emit(conn, EventKind.SLOT_FREED, slot=self.slot_model(row))

    async def taken_slots(self, doctor_id: str, limit: int = 10) -> list[str]:
        """Future slots taken by outsiders (candidates for ``free_slot`` in demos)."""
        async with self.tx() as conn:
            q = (
                select(s.slots.c.id)
                .where(
                    s.slots.c.doctor_id == doctor_id,
                    s.slots.c.state == "taken",
                    s.slots.c.appointment_id.is_(None),
                    s.slots.c.starts_at > self.now(),
                )
                .order_by(s.slots.c.starts_at)
                .limit(limit)
            )
            return list((await conn.execute(q)).scalars())

    async def personas(self) -> list[Persona]:
        """Ready-made demo people with their policies and phones."""
        async with self.tx() as conn:
            rows = (
                await conn.execute(select(s.patients).where(s.patients.c.persona.is_not(None)))
            ).all()
            links = (await conn.execute(select(s.family))).all()
            everyone = {
                r.id: r
                for r in (
                    await conn.execute(
                        select(s.patients).where(
                            s.patients.c.id.in_(
                                {link.parent_id for link in links}
                                | {link.child_id for link in links}
                            )
                        )
                    )
                ).all()
            }
        today = self.today()
        out = []
        for r in rows:
            family = []
            for link in links:
                if link.child_id == r.id and link.parent_id in everyone:
                    parent = everyone[link.parent_id]
                    role = "мать" if parent.sex == "F" else "отец"
                    family.append(f"{role}: {_full(parent)}")
                if link.parent_id == r.id and link.child_id in everyone:
                    child = everyone[link.child_id]
                    role = "дочь" if child.sex == "F" else "сын"
                    family.append(f"{role}: {_full(child)}, {age_on(child.birth_date, today)} лет")
            role = PERSONA_ROLES.get(r.persona, "")
            if r.persona == "teen_turning_15":
                fifteen = birthday_in_year(r.birth_date, r.birth_date.year + 15)
                days = (fifteen - today).days
                role = (
                    f"подросток: 15 лет исполнится через {days} дн. ({fifteen:%d.%m.%Y}) — "
                    "тогда автоматический доступ родителей закончится"
                    if days > 0
                    else "подросток: уже 15 лет, автоматический доступ родителей закончился"
                )
            out.append(
                Persona(
                    key=r.persona,
                    role=role,
                    full_name=_full(r),
                    policy=r.policy,
                    birth_date=r.birth_date,
                    phone=r.phone,
                    patient_id=r.id,
                    family=family,
                )
            )
        order = {k: i for i, k in enumerate(PERSONA_ORDER)}
        return sorted(out, key=lambda p: order.get(p.key, 99))

    async def sms_outbox(self, phone: str | None = None, limit: int = 50) -> list[SmsMessage]:
        """Messages "sent" by the sandbox, newest first (they contain codes: show, never log)."""
        async with self.tx() as conn:
            return await read_outbox(conn, phone, limit)


ABNORMAL: dict[str, dict[str, float]] = {
    "cbc": {"HGB": 98.0, "RBC": 3.4, "HCT": 31.0, "ESR": 24.0},
    "bio": {"GLU": 8.4, "ALT": 62.0},
    "lipid": {"CHOL": 6.9, "LDL": 4.6, "TG": 2.3},
    "hba1c": {"HBA1C": 8.1, "GLU": 9.2},
    "thyroid": {"TSH": 7.9, "FT4": 8.4},
    "ferritin": {"FER": 6.0},
    "psa": {"PSA": 6.2},
    "urine": {"ULEU": 18.0},
}


def _full(r: Any) -> str:
    return f"{r.last_name} {r.first_name} {r.middle_name}"
