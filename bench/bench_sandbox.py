"""Latency of the sandbox backend on the full seed.

    python bench/bench_sandbox.py [--runs 200]

Seeds a fresh sandbox in a temporary directory, links the demo "elderly mother" persona and
times a section page (``list_entries``), a doctor's free slots (``free_slots``) and the
poller's ``search_free_slots``; prints median and p95 per call. Target: < 20 ms each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend_client.models import Relation, Requester, Scope, Section
from backend_client.sandbox import MSK, ManualClock, SandboxBackend
from backend_client.sandbox.testing import FIXED_NOW, code_from_sms

TARGET_MS = 20.0


async def _timed(runs: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    await call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def main(runs: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(FIXED_NOW)
        started = time.perf_counter()
        sb = await SandboxBackend.open(Path(tmp) / "sandbox.sqlite3", clock=clock)
        seed_s = time.perf_counter() - started
        try:
            persona = next(p for p in await sb.personas() if p.key == "elderly_mother")
            me = Requester(id="tg-bench", display_name="Бенчмарк Б.")
            ch = await sb.request_access(
                persona.policy, persona.birth_date, me, Relation.SELF, Scope.RECORDS
            )
            sms = (await sb.sms_outbox(persona.phone))[0].text
            grant = await sb.confirm_access(ch.challenge_id, code_from_sms(sms), me)
            doctor = (await sb.list_doctors(grant.grant_id, me.id, specialty_code="therapist"))[0]
            today = FIXED_NOW.astimezone(MSK).date()
            until = today + timedelta(days=13)

            results = {
                "list_entries": await _timed(
                    runs, lambda: sb.list_entries(grant.grant_id, me.id, Section.LABS)
                ),
                "free_slots": await _timed(
                    runs,
                    lambda: sb.free_slots(grant.grant_id, me.id, doctor.doctor_id, today, until),
                ),
                "search_free_slots": await _timed(
                    runs,
                    lambda: sb.search_free_slots(
                        specialty_code="therapist", clinic_id="c1", date_from=today, date_to=until
                    ),
                ),
            }
        finally:
            await sb.aclose()
    parts = [f"{name} median={m:.1f}ms p95={p:.1f}ms" for name, (m, p) in results.items()]
    print(f"sandbox: seed={seed_s:.2f}s; " + "; ".join(parts) + f"; target <{TARGET_MS:.0f}ms")
    return 0 if all(m < TARGET_MS for m, _ in results.values()) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    sys.exit(asyncio.run(main(parser.parse_args().runs)))
