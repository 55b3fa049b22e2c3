"""Contract: linking a card with an SMS code — what the SMS says, wrong, expired, used and resent
codes, who a challenge belongs to — and the SMS send limits (per patient, per requester, per
day). Runs on every backend adapter (``harness`` in conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend_client.errors import CodeExhausted, CodeExpired, CodeWrong, NotFound, RateLimited
from backend_client.models import Relation, Scope
from tests.backend.access_contract_support import ME
from tests.backend.conftest import Harness, requester


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_link_own_card_with_sms_code(harness: Harness) -> None:
    p = await harness.persona("single")
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, ME, Relation.SELF, Scope.APPOINTMENTS
    )
    assert ch.phone_masked.endswith(f"{p.phone[-4:-2]}-{p.phone[-2:]}")
    assert ch.attempts_left == 5
    assert ch.scope is Scope.RECORDS  # SELF always sees its own record
    assert ch.expires_at - harness.clock() == timedelta(minutes=10)
    sms = (await harness.sandbox.sms_outbox(p.phone))[0].text
    assert "привязки вашей медкарты" in sms
    grant = await harness.backend.confirm_access(
        ch.challenge_id, await harness.last_code(p.phone), ME
    )
    assert grant.relation is Relation.SELF
    assert grant.is_active(harness.clock())
    assert [g.grant_id for g in await harness.backend.list_grants_received(ME.id)] == [
        grant.grant_id
    ]
    assert (await harness.backend.get_grant(grant.grant_id, ME)).grant_id == grant.grant_id


async def test_relative_access_sms_names_requester_scope_and_expiry(harness: Harness) -> None:
    mother = await harness.persona("elderly_mother")
    until = harness.clock() + timedelta(days=365)
    ch = await harness.backend.request_access(
        mother.policy, mother.birth_date, ME, Relation.RELATIVE, Scope.APPOINTMENTS, until
    )
    text = (await harness.sandbox.sms_outbox(mother.phone))[0].text
    assert "Анна С." in text
    assert "записи вас к врачу" in text and "без просмотра медкарты" in text
    assert until.strftime("%d.%m.%Y") in text
    grant = await harness.backend.confirm_access(
        ch.challenge_id, await harness.last_code(mother.phone), ME
    )
    assert grant.relation is Relation.RELATIVE
    assert grant.scope is Scope.APPOINTMENTS
    assert grant.expires_at == until.replace(microsecond=0)
    # The owner is told by SMS that access was added.
    assert "получил(а) доступ" in (await harness.sandbox.sms_outbox(mother.phone))[0].text


async def test_wrong_code_counts_down_then_challenge_is_dead(harness: Harness) -> None:
    p = await harness.persona("single")
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, ME, Relation.SELF, Scope.RECORDS
    )
    right = await harness.last_code(p.phone)
    left = []
    for _ in range(5):
        with pytest.raises(CodeWrong) as err:
            await harness.backend.confirm_access(ch.challenge_id, _wrong(right), ME)
        left.append(err.value.attempts_left)
    assert left == [4, 3, 2, 1, 0]
    with pytest.raises(CodeExhausted):
        await harness.backend.confirm_access(ch.challenge_id, right, ME)


async def test_code_expires_after_ten_minutes(harness: Harness) -> None:
    p = await harness.persona("single")
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, ME, Relation.SELF, Scope.RECORDS
    )
    code = await harness.last_code(p.phone)
    harness.clock.advance(minutes=10, seconds=1)
    with pytest.raises(CodeExpired):
        await harness.backend.confirm_access(ch.challenge_id, code, ME)


async def test_code_is_single_use(harness: Harness) -> None:
    p = await harness.persona("single")
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, ME, Relation.SELF, Scope.RECORDS
    )
    code = await harness.last_code(p.phone)
    grant = await harness.backend.confirm_access(ch.challenge_id, code, ME)
    # Used, the challenge takes no more guesses: a wrong code does not count down, it is closed.
    with pytest.raises(CodeExhausted):
        await harness.backend.confirm_access(ch.challenge_id, _wrong(code), ME)
    with pytest.raises(NotFound):  # nor is it anybody else's
        await harness.backend.confirm_access(ch.challenge_id, code, requester("thief"))
    await harness.backend.revoke_grant(grant.grant_id, ME)
    with pytest.raises(CodeExhausted):  # the right code again does not bring access back
        await harness.backend.confirm_access(ch.challenge_id, code, ME)


async def test_confirming_a_used_code_again_returns_the_grant_it_made(harness: Harness) -> None:
    # The bot died after the backend confirmed and before it kept the link: the person types
    # the same code again (or the update comes again) and the link is finished, not refused.
    mother = await harness.persona("elderly_mother")
    until = harness.clock() + timedelta(days=30)
    ch = await harness.backend.request_access(
        mother.policy, mother.birth_date, ME, Relation.RELATIVE, Scope.APPOINTMENTS, until
    )
    code = await harness.last_code(mother.phone)
    first = await harness.backend.confirm_access(ch.challenge_id, code, ME)
    sms_after_first = len(await harness.sandbox.sms_outbox(mother.phone))
    events_after_first = len((await harness.backend.read_events(None)).events)
    harness.clock.advance(minutes=2)
    again = await harness.backend.confirm_access(ch.challenge_id, code, ME)
    assert again == first
    assert [g.grant_id for g in await harness.backend.list_grants_received(ME.id)] == [
        first.grant_id
    ]
    # Nothing new happened for the owner: no second "access granted" SMS, no second event.
    assert len(await harness.sandbox.sms_outbox(mother.phone)) == sms_after_first
    assert len((await harness.backend.read_events(None)).events) == events_after_first
    harness.clock.set(ch.expires_at)
    with pytest.raises(CodeExhausted):  # only within the code's own lifetime
        await harness.backend.confirm_access(ch.challenge_id, code, ME)


async def test_resend_waits_a_minute_and_kills_the_old_code(harness: Harness) -> None:
    p = await harness.persona("single")
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, ME, Relation.SELF, Scope.RECORDS
    )
    old = await harness.last_code(p.phone)
    with pytest.raises(RateLimited) as err:
        await harness.backend.resend_code(ch.challenge_id, ME)
    assert 1 <= err.value.retry_after <= 60
    harness.clock.advance(seconds=61)
    ch2 = await harness.backend.resend_code(ch.challenge_id, ME)
    assert ch2.challenge_id == ch.challenge_id
    new = await harness.last_code(p.phone)
    if new != old:  # 1 in a million they coincide
        with pytest.raises(CodeWrong):
            await harness.backend.confirm_access(ch.challenge_id, old, ME)
    grant = await harness.backend.confirm_access(ch.challenge_id, new, ME)
    assert grant.relation is Relation.SELF


async def test_challenge_belongs_to_its_requester(harness: Harness) -> None:
    p = await harness.persona("single")
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, ME, Relation.SELF, Scope.RECORDS
    )
    code = await harness.last_code(p.phone)
    with pytest.raises(NotFound):
        await harness.backend.confirm_access(ch.challenge_id, code, requester("thief"))
    with pytest.raises(NotFound):
        await harness.backend.confirm_access("ch-unknown", code, ME)


async def test_send_limit_per_patient_across_requesters(harness: Harness) -> None:
    mother = await harness.persona("elderly_mother")
    for n in range(3):
        await harness.backend.request_access(
            mother.policy, mother.birth_date, requester(n), Relation.RELATIVE, Scope.RECORDS
        )
        harness.clock.advance(seconds=61)
    with pytest.raises(RateLimited) as err:  # a fourth person, same phone, same hour
        await harness.backend.request_access(
            mother.policy, mother.birth_date, requester(9), Relation.RELATIVE, Scope.RECORDS
        )
    assert 3000 < err.value.retry_after <= 3600 - 3 * 61 + 61
    harness.clock.advance(seconds=err.value.retry_after)
    await harness.backend.request_access(
        mother.policy, mother.birth_date, requester(9), Relation.RELATIVE, Scope.RECORDS
    )


async def test_send_limit_per_requester_across_patients(harness: Harness) -> None:
    for key in ("elderly_mother", "elderly_father", "adult_son"):
        p = await harness.persona(key)
        await harness.backend.request_access(
            p.policy, p.birth_date, ME, Relation.RELATIVE, Scope.RECORDS
        )
        harness.clock.advance(seconds=61)
    p = await harness.persona("single")
    with pytest.raises(RateLimited):
        await harness.backend.request_access(
            p.policy, p.birth_date, ME, Relation.RELATIVE, Scope.RECORDS
        )


async def test_send_limit_per_day(harness: Harness) -> None:
    p = await harness.persona("single")
    sent = 0
    for _ in range(4):  # 3 an hour, then wait the hour out
        for _ in range(3):
            if sent == 10:
                break
            await harness.backend.request_access(
                p.policy, p.birth_date, requester(sent), Relation.RELATIVE, Scope.RECORDS
            )
            sent += 1
            harness.clock.advance(seconds=61)
        harness.clock.advance(minutes=60)
    assert sent == 10
    with pytest.raises(RateLimited) as err:
        await harness.backend.request_access(
            p.policy, p.birth_date, requester("late"), Relation.RELATIVE, Scope.RECORDS
        )
    assert err.value.retry_after > 3600  # the day's window, not the hour's
