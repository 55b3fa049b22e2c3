"""Plain async functions behind ``python -m bot sandbox ...``; each returns printable text.

They open the sandbox file themselves (the bot may have it open too: SQLite WAL handles that)
and print only sandbox data — this is a developer tool, its output is not a log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from backend_client.errors import BackendError
from backend_client.sandbox.backend import SandboxBackend
from backend_client.sandbox.clock import MSK, Clock


@asynccontextmanager
async def _opened(path: str | Path, seed: int, clock: Clock) -> AsyncIterator[SandboxBackend]:
    backend = await SandboxBackend.open(path, seed=seed, clock=clock)
    try:
        yield backend
    finally:
        await backend.aclose()


async def personas_text(path: str | Path, *, seed: int = 42, clock: Clock) -> str:
    """Demo people to try the bot with: policy, birth date, phone (SMS go to the outbox)."""
    async with _opened(path, seed, clock) as sb:
        people = await sb.personas()
    lines = ["Демо-пациенты песочницы (коды из SMS: `sandbox sms`):", ""]
    for p in people:
        lines.append(f"• {p.full_name} — {p.role}")
        lines.append(
            f"  полис {p.policy}, дата рождения {p.birth_date:%d.%m.%Y}, телефон {p.phone}"
        )
        lines.extend(f"  {f}" for f in p.family)
    return "\n".join(lines)


async def sms_text(
    path: str | Path, *, phone: str | None = None, limit: int = 10, seed: int = 42, clock: Clock
) -> str:
    """The latest SMS the sandbox "sent" (newest first)."""
    async with _opened(path, seed, clock) as sb:
        messages = await sb.sms_outbox(phone, limit)
    if not messages:
        return "SMS нет."
    return "\n".join(
        f"{m.sent_at.astimezone(MSK):%d.%m %H:%M:%S} → {m.phone}: {m.text}" for m in messages
    )


async def publish_result_text(
    path: str | Path,
    *,
    policy: str | None = None,
    patient_id: str | None = None,
    panel: str = "cbc",
    abnormal: bool = False,
    seed: int = 42,
    clock: Clock,
) -> str:
    """Publish a new lab result (emits ``result_ready``)."""
    async with _opened(path, seed, clock) as sb:
        try:
            entry_id = await sb.publish_result(
                policy=policy, patient_id=patient_id, panel=panel, abnormal=abnormal
            )
        except BackendError as exc:
            return f"Не получилось: {exc.code}"
    return f"Опубликован результат {panel}: entry_id={entry_id}"


async def clinic_cancel_text(
    path: str | Path, appointment_id: str, *, seed: int = 42, clock: Clock
) -> str:
    """The clinic cancels a visit (emits ``appointment_cancelled``)."""
    async with _opened(path, seed, clock) as sb:
        try:
            appt = await sb.clinic_cancel(appointment_id)
        except BackendError as exc:
            return f"Не получилось: {exc.code}"
    return (
        f"Визит {appt.appointment_id} к {appt.doctor.full_name} "
        f"{appt.starts_at.astimezone(MSK):%d.%m %H:%M} отменён поликлиникой."
    )


async def clinic_move_text(
    path: str | Path,
    appointment_id: str,
    new_slot_id: str | None = None,
    *,
    seed: int = 42,
    clock: Clock,
) -> str:
    """The clinic moves a visit (emits ``appointment_moved``)."""
    async with _opened(path, seed, clock) as sb:
        try:
            appt = await sb.clinic_move(appointment_id, new_slot_id)
        except BackendError as exc:
            return f"Не получилось: {exc.code}"
    return (
        f"Визит {appt.appointment_id} перенесён на "
        f"{appt.starts_at.astimezone(MSK):%d.%m %H:%M} ({appt.doctor.full_name})."
    )


async def free_slot_text(
    path: str | Path,
    *,
    slot_id: str | None = None,
    doctor_id: str | None = None,
    seed: int = 42,
    clock: Clock,
) -> str:
    """Free a slot someone else held (emits ``slot_freed``): a given one, or the doctor's next."""
    async with _opened(path, seed, clock) as sb:
        try:
            if slot_id is None:
                if doctor_id is None:
                    return "Укажите slot_id или doctor_id."
                taken = await sb.taken_slots(doctor_id, 1)
                if not taken:
                    return "У врача нет занятых слотов, которые можно освободить."
                slot_id = taken[0]
            await sb.free_slot(slot_id)
        except BackendError as exc:
            return f"Не получилось: {exc.code}"
    return f"Слот {slot_id} освобождён."


async def appointments_text(path: str | Path, *, policy: str, seed: int = 42, clock: Clock) -> str:
    """A patient's visits with ids (to feed ``clinic-cancel`` / ``clinic-move``)."""
    async with _opened(path, seed, clock) as sb:
        try:
            rows = await sb.appointments_of(policy)
        except BackendError as exc:
            return f"Не получилось: {exc.code}"
    if not rows:
        return "Визитов нет."
    return "\n".join(
        f"{a.appointment_id}  {a.starts_at.astimezone(MSK):%d.%m.%Y %H:%M}  "
        f"{a.doctor.specialty.name}, {a.doctor.full_name}  [{a.status.value}]"
        for a in rows
    )
