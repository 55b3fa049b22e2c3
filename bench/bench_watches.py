"""One polling round of the slot-watch engine over many watches.

    python bench/bench_watches.py [--watches 1000] [--doctors 50]

Seeds a sandbox and a bot database in a temporary directory, spreads the watches over the
doctors (and some over (specialty, clinic)), and runs one round with polling through a backend
wrapper that counts calls. The point: one backend query per watched doctor or (specialty,
clinic), however many users watch it. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend_client.models import Slot
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.testing import FIXED_NOW
from bot.clock import FrozenClock
from bot.db.appointments_models import SlotWatch
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade
from bot.db.models import LinkedPerson, User
from bot.keys import AppKeys
from bot.services.appointments.clock import msk_date
from bot.services.appointments.watch_engine import run_watch_round
from bot.services.appointments.watches import MAX_ACTIVE_WATCHES

SPECIALTIES = (
    "therapist",
    "gp",
    "pediatrician",
    "ophthalmologist",
    "surgeon",
    "ent",
    "urologist",
    "gynecologist",
    "dentist",
    "cardiologist",
    "endocrinologist",
    "neurologist",
    "gastroenterologist",
)


class Counting:
    """The sandbox, counting calls. The seed has fewer doctors than the benchmark wants, so
    "virtual" doctors (`v00`...) are answered from a real one's schedule under their own ids."""

    def __init__(self, inner: SandboxBackend, virtual: dict[str, str]) -> None:
        self.inner = inner
        self.virtual = virtual
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return await target(*args, **kwargs)

        return counted

    async def search_free_slots(self, **kwargs: Any) -> list[Slot]:
        self.calls["search_free_slots"] = self.calls.get("search_free_slots", 0) + 1
        doctor = kwargs.get("doctor_id")
        if doctor not in self.virtual:
            return await self.inner.search_free_slots(**kwargs)
        found = await self.inner.search_free_slots(**{**kwargs, "doctor_id": self.virtual[doctor]})
        return [
            s.model_copy(update={"doctor_id": doctor, "slot_id": f"{doctor}-{s.slot_id}"})
            for s in found
        ]


class Quiet:
    def __init__(self) -> None:
        self.told = 0

    async def slot_found(self, user_id: int, hit_id: int) -> None:
        self.told += 1


async def main(n_watches: int, n_doctors: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FrozenClock(FIXED_NOW)
        sandbox = await SandboxBackend.open(Path(tmp) / "sandbox.sqlite3", clock=clock)
        url = f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        today = msk_date(clock())
        slots = []
        for code in SPECIALTIES:
            slots += await sandbox.search_free_slots(
                specialty_code=code, date_from=today, date_to=today + timedelta(days=13)
            )
        real = sorted({(s.doctor_id, s.specialty_code or "") for s in slots})
        virtual = {f"v{i:02d}": real[i % len(real)][0] for i in range(n_doctors)}
        specialty_of = dict(real)
        doctors = [(v, specialty_of[d]) for v, d in virtual.items()]
        places = sorted({(s.specialty_code or "", s.clinic_id or "") for s in slots})[:10]
        specialty_watches = n_watches // 20
        async with sessionmaker() as db:
            for index in range(0, n_watches, MAX_ACTIVE_WATCHES):
                user = User(telegram_id=10_000 + index, created_at=clock(), last_seen_at=clock())
                db.add(user)
                await db.flush()
                person = LinkedPerson(
                    user_id=user.id,
                    relation="self",
                    scope="appointments+records",
                    grant_id=f"g{index}",
                    patient_ref_hash=f"h{index}",
                    label_enc=b"-",
                    policy_enc=b"-",
                    created_at=clock(),
                )
                db.add(person)
                await db.flush()
                for k in range(index, min(index + MAX_ACTIVE_WATCHES, n_watches)):
                    doctor_id, code = doctors[k % len(doctors)]
                    by_specialty = k < specialty_watches
                    place = places[k % len(places)]
                    db.add(
                        SlotWatch(
                            user_id=user.id,
                            person_id=person.id,
                            doctor_id=None if by_specialty else doctor_id,
                            specialty_code=place[0] if by_specialty else code,
                            clinic_id=place[1] if by_specialty else None,
                            date_from=today,
                            date_to=today + timedelta(days=7 + k % 7),
                            # "After 17:00"-style windows: some watches hit, most do not.
                            minute_from=17 * 60 + k % 180,
                            minute_to=21 * 60,
                            weekdays=0b1111111,
                            auto_book=False,
                            min_notice_minutes=120,
                            active=True,
                            created_at=clock(),
                        )
                    )
            await db.commit()
        counting = Counting(sandbox, virtual)
        notifier = Quiet()
        keys = AppKeys(b"b" * 64)
        # The first round only finds the end of the event feed; the measured one polls.
        await run_watch_round(sessionmaker, counting, keys, notifier, poll=False, clock=clock)
        counting.calls.clear()
        started = time.perf_counter()
        stats = await run_watch_round(
            sessionmaker, counting, keys, notifier, poll=True, clock=clock
        )
        round_ms = (time.perf_counter() - started) * 1000
        searches = counting.calls.get("search_free_slots", 0)
        events = counting.calls.get("read_events", 0)
        # A steady round: the same slots again, nothing new to tell.
        again = time.perf_counter()
        await run_watch_round(sessionmaker, counting, keys, notifier, poll=True, clock=clock)
        steady_ms = (time.perf_counter() - again) * 1000
        groups = len(doctors) + min(len(places), specialty_watches)
        print(
            f"watches: watches={stats.watches} doctors={len(doctors)} "
            f"backend_queries={stats.backend_queries} "
            f"queries_per_doctor={searches / max(1, groups):.2f} round_ms={round_ms:.0f} "
            f"(search_free_slots={searches}, read_events={events}, steady_round_ms={steady_ms:.0f}, "
            f"groups={groups}, hits={stats.hits}, real_doctors={len(real)})"
        )
        await engine.dispose()
        await sandbox.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--doctors", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.watches, args.doctors))
