"""Sandbox-specific behaviour: the seed (size, realism, determinism, speed), secrets handling,
schedule upkeep and the admin helpers. Not part of the protocol contract."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from backend_client.errors import (
    CodeWrong,
    RateLimited,
    error_from_payload,
)
from backend_client.models import Relation, Scope
from backend_client.policy import make_policy, normalize_policy, policy_check_digit_ok
from backend_client.sandbox import ManualClock, SandboxBackend, admin
from backend_client.sandbox.clock import MSK, age_on
from backend_client.sandbox.names import MALE_NAMES
from backend_client.sandbox.testing import FIXED_NOW, code_from_sms, copy_template
from tests.backend.conftest import requester
from tests.sandbox_fixtures import open_sandbox

ME = requester("me", "Анна С.")


@pytest.fixture
async def sandbox(sandbox_template: Path, tmp_path: Path):
    clock = ManualClock(FIXED_NOW)
    async with open_sandbox(sandbox_template, tmp_path, clock, "s.sqlite3") as sb:
        yield sb, clock


def _rows(path: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def test_seed_is_big_and_realistic(sandbox_template: Path) -> None:
    patients = _rows(
        sandbox_template,
        "select last_name, first_name, middle_name, sex, birth_date, policy, phone from patients",
    )
    assert len(patients) >= 60
    today = FIXED_NOW.astimezone(MSK).date()
    for last, _first, middle, sex, birth, policy, phone in patients:
        assert policy_check_digit_ok(policy)
        assert re.fullmatch(r"\+79\d{9}", phone)
        if sex == "F":
            assert middle.endswith("на"), middle
            assert last.endswith(("а", "ая", "ко")), last
        else:
            assert middle.endswith("ич"), middle
            assert not last.endswith(("ова", "ева", "ина", "ская")), last
        assert date.fromisoformat(birth) <= today
    assert len({p[5] for p in patients}) == len(patients)
    clinics = _rows(sandbox_template, "select address from clinics")
    assert len(clinics) >= 4 and all(a.startswith("Москва") for (a,) in clinics)
    assert len(_rows(sandbox_template, "select code from specialties")) >= 12


def test_families_cover_the_demo_cases(sandbox_template: Path) -> None:
    rows = _rows(
        sandbox_template,
        "select p.birth_date, c.birth_date, p.middle_name, c.middle_name, p.first_name, p.sex "
        "from family f join patients p on p.id = f.parent_id join patients c on c.id = f.child_id",
    )
    today = FIXED_NOW.astimezone(MSK).date()
    ages = [
        (age_on(date.fromisoformat(p), today), age_on(date.fromisoformat(c), today))
        for p, c, *_ in rows
    ]
    assert any(child < 15 for _, child in ages)
    assert any(parent >= 65 and child >= 18 for parent, child in ages)
    assert all(parent - child >= 18 for parent, child in ages)
    # A child's patronymic comes from the father's first name.
    for _, _, _, child_middle, parent_first, parent_sex in rows:
        if parent_sex == "M":
            assert child_middle in MALE_NAMES[parent_first], (parent_first, child_middle)
    loners = _rows(
        sandbox_template,
        "select count(*) from patients where id not in (select parent_id from family) "
        "and id not in (select child_id from family)",
    )
    assert loners[0][0] >= 1


def test_seed_is_deterministic_and_fast(tmp_path: Path, sandbox_template: Path) -> None:
    import asyncio

    from backend_client.sandbox.testing import seed_template

    started = time.perf_counter()
    again = asyncio.run(seed_template(tmp_path / "again.sqlite3"))
    took = time.perf_counter() - started
    other = asyncio.run(seed_template(tmp_path / "other.sqlite3", seed=7))
    query = "select id, policy, last_name, first_name, birth_date from patients order by id"
    assert _rows(again, query) == _rows(sandbox_template, query)
    entries = "select id, title, date, body from entries order by id"
    assert _rows(again, entries) == _rows(sandbox_template, entries)
    assert _rows(other, query) != _rows(sandbox_template, query)
    assert took < 5.0  # about 0.6 s on a quiet machine


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 12, 31, 20, 59, tzinfo=UTC), datetime(2027, 2, 24, 9, 0, tzinfo=UTC)],
    ids=["new-year-eve-in-moscow", "an-ordinary-day"],
)
async def test_the_teen_turns_15_in_nine_days_on_any_seeding_day(
    tmp_path: Path, now: datetime
) -> None:
    # Seeded on 31 December (Moscow), the birthday nine days on is in January of the next year.
    from backend_client.sandbox.testing import seed_template

    path = await seed_template(tmp_path / "s.sqlite3", seed=7, now=now)
    async with open_sandbox(path, tmp_path, ManualClock(now), "copy.sqlite3") as sb:
        egor = next(p for p in await sb.personas() if p.key == "teen_turning_15")
    today = now.astimezone(MSK).date()
    assert age_on(egor.birth_date, today) == 14
    assert age_on(egor.birth_date, today + timedelta(days=9)) == 15
    assert "15 лет исполнится через 9 дн." in egor.role


def test_schedule_shape(sandbox_template: Path) -> None:
    rows = _rows(sandbox_template, "select starts_at, duration_min, state, doctor_id from slots")
    assert rows
    by_weekday: dict[int, int] = {}
    per_day: dict[tuple[str, date], list[str]] = {}
    for starts, duration, state, doctor in rows:
        local = FIXED_NOW.fromtimestamp(starts, MSK)
        by_weekday[local.weekday()] = by_weekday.get(local.weekday(), 0) + 1
        per_day.setdefault((doctor, local.date()), []).append(state)
        assert duration in (15, 20)
    assert 6 not in by_weekday  # Sundays closed
    assert by_weekday.get(5, 0) < by_weekday[0]  # Saturdays: duty doctors only
    assert any(all(s == "taken" for s in states) for states in per_day.values())  # full days
    assert any(s == "free" for states in per_day.values() for s in states)


async def test_schedule_window_moves_with_the_days(sandbox_template: Path, tmp_path: Path) -> None:
    clock = ManualClock(FIXED_NOW + timedelta(days=3))
    async with open_sandbox(sandbox_template, tmp_path, clock) as sb:
        last_day = (FIXED_NOW + timedelta(days=16)).astimezone(MSK).date()
        slots = await sb.search_free_slots(
            specialty_code="therapist", date_from=last_day - timedelta(days=2), date_to=last_day
        )
        assert slots


async def test_codes_are_stored_as_keyed_hashes_and_never_logged(
    sandbox, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    sb, _ = sandbox
    caplog.set_level(logging.DEBUG)
    p = next(x for x in await sb.personas() if x.key == "elderly_mother")
    ch = await sb.request_access(p.policy, p.birth_date, ME, Relation.RELATIVE, Scope.RECORDS)
    code = code_from_sms((await sb.sms_outbox(p.phone))[0].text)
    with pytest.raises(CodeWrong):
        await sb.confirm_access(ch.challenge_id, f"{(int(code) + 1) % 10**6:06d}", ME)
    await sb.confirm_access(ch.challenge_id, code, ME)
    for record in caplog.records:
        text = record.getMessage()
        assert code not in text and p.policy not in text and p.phone not in text
    await sb.aclose()
    with sqlite3.connect(tmp_path / "s.sqlite3") as db:
        (stored,) = db.execute(
            "select code_hash from challenges where id = ?", (ch.challenge_id,)
        ).fetchone()
    assert len(stored) == 64 and code not in stored


async def test_rate_limit_survives_reopening(sandbox_template: Path, tmp_path: Path) -> None:
    path = copy_template(sandbox_template, tmp_path / "s.sqlite3")
    clock = ManualClock(FIXED_NOW)
    sb = await SandboxBackend.open(path, clock=clock)
    p = next(x for x in await sb.personas() if x.key == "single")
    await sb.request_access(p.policy, p.birth_date, ME, Relation.SELF, Scope.RECORDS)
    await sb.aclose()
    sb = await SandboxBackend.open(path, clock=clock)
    try:
        with pytest.raises(RateLimited):
            await sb.request_access(p.policy, p.birth_date, ME, Relation.SELF, Scope.RECORDS)
    finally:
        await sb.aclose()


async def test_personas(sandbox) -> None:
    sb, _ = sandbox
    people = {p.key: p for p in await sb.personas()}
    assert {"mother", "elderly_mother", "teen_turning_15", "child", "single"} <= set(people)
    assert people["single"].family == []
    assert any("Кузнецова Галина Петровна" in f for f in people["mother"].family)
    assert "15 лет исполнится через 9 дн." in people["teen_turning_15"].role


async def test_admin_helpers_print_text(sandbox_template: Path, tmp_path: Path) -> None:
    path = copy_template(sandbox_template, tmp_path / "s.sqlite3")
    text = await admin.personas_text(path, clock=ManualClock(FIXED_NOW))
    assert "Смирнова Анна Сергеевна" in text and "полис" in text
    policy = re.search(r"Кузнецова Галина Петровна.*?полис (\d{16})", text, re.S)
    assert policy is not None
    assert "entry_id=" in await admin.publish_result_text(
        path, policy=policy.group(1), panel="hba1c", clock=ManualClock(FIXED_NOW)
    )
    visits = await admin.appointments_text(
        path, policy=policy.group(1), clock=ManualClock(FIXED_NOW)
    )
    assert "Терапевт" in visits
    assert "SMS нет" in await admin.sms_text(path, clock=ManualClock(FIXED_NOW))
    assert "освобождён" in await admin.free_slot_text(
        path, doctor_id="d41", clock=ManualClock(FIXED_NOW)
    )
    assert "Не получилось" in await admin.clinic_cancel_text(
        path, "a-unknown", clock=ManualClock(FIXED_NOW)
    )


def test_policy_check_digit() -> None:
    assert policy_check_digit_ok(make_policy("770000000000001"))
    assert not policy_check_digit_ok("7700000000000019")
    assert not policy_check_digit_ok("77000000000000")
    assert normalize_policy(" 7700 0000-0000 0016 ") == "7700000000000016"


def test_errors_travel_as_payloads() -> None:
    err = error_from_payload(RateLimited(42).to_payload())
    assert isinstance(err, RateLimited) and err.retry_after == 42
    assert error_from_payload({"code": "something_new"}).code == "backend_error"


async def test_published_abnormal_result_is_flagged(sandbox) -> None:
    sb, _ = sandbox
    p = next(x for x in await sb.personas() if x.key == "elderly_mother")
    entry_id = await sb.publish_result(patient_id=p.patient_id, panel="cbc", abnormal=True)
    ch = await sb.request_access(p.policy, p.birth_date, ME, Relation.RELATIVE, Scope.RECORDS)
    code = code_from_sms((await sb.sms_outbox(p.phone))[0].text)
    grant = await sb.confirm_access(ch.challenge_id, code, ME)
    doc = await sb.get_document(grant.grant_id, ME.id, entry_id)
    hgb = next(r for panel in doc.panels for r in panel.results if r.code == "HGB")
    assert doc.has_abnormal and hgb.flag is not None and hgb.flag.value == "low"
    assert 80 < (hgb.value or 0) < 115


def test_vaccination_stages_read_as_words_not_calendar_codes(sandbox_template: Path) -> None:
    """«Этап: RV» meant nothing to a parent: the record says «Ревакцинация» / «Вакцинация (2-я)»."""
    stages = []
    for (body,) in _rows(
        sandbox_template, "select body from entries where section = 'vaccinations'"
    ):
        fields = {f["label"]: f["value"] for f in json.loads(body)["fields"]}
        stages.append(fields["Этап"])
    assert stages and not [s for s in stages if re.fullmatch(r"R?V\d*", s)]
    assert {"Ревакцинация", "Вакцинация (1-я)"} <= set(stages)
