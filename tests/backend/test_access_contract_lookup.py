"""Contract: finding a patient by policy and birth date, and wrong birth dates being counted and
capped (per policy, per requester, per day, for children too) while malformed look-ups are
refused without counting. Runs on every backend adapter (``harness`` in conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend_client.errors import InvalidRequest, LookupLocked, NotFound
from backend_client.models import Relation, Scope
from backend_client.policy import make_policy
from tests.backend.access_contract_support import ME
from tests.backend.conftest import Harness, requester


async def test_find_patient_by_policy_and_birth_date(harness: Harness) -> None:
    p = await harness.persona("elderly_mother")
    ref = await harness.backend.find_patient(p.policy, p.birth_date)
    assert ref.display_name == "Галина К."
    assert ref.birth_date == p.birth_date
    assert ref.age == 77 or ref.age == 78


async def test_wrong_birth_date_looks_like_unknown_policy(harness: Harness) -> None:
    p = await harness.persona("elderly_mother")
    with pytest.raises(NotFound) as wrong_date:
        await harness.backend.find_patient(p.policy, p.birth_date - timedelta(days=1))
    unknown = "7700000000000016"  # valid check digit, nobody has it
    with pytest.raises(NotFound) as unknown_policy:
        await harness.backend.find_patient(unknown, p.birth_date)
    assert wrong_date.value.to_payload() == unknown_policy.value.to_payload()


@pytest.mark.parametrize("policy", ["123", "7700000000000019", "77000000000000a8", ""])
async def test_malformed_policy_is_invalid_request(harness: Harness, policy: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        await harness.backend.find_patient(policy, date(1980, 1, 1))
    assert err.value.field == "policy"


async def test_birth_date_in_the_future_is_invalid(harness: Harness) -> None:
    p = await harness.persona("single")
    with pytest.raises(InvalidRequest) as err:
        await harness.backend.find_patient(p.policy, date(2030, 1, 1))
    assert err.value.field == "birth_date"


def _nobodys_policy(n: int) -> str:
    """A well-formed policy number (valid check digit) that no card has."""
    return make_policy(f"99{n:013d}")


async def test_sixth_look_up_of_a_policy_after_five_wrong_dates_is_refused(
    harness: Harness,
) -> None:
    p = await harness.persona("single")
    for n in range(5):  # five different people guessing, one policy
        with pytest.raises(NotFound):
            await harness.backend.request_access(
                p.policy, date(1950 + n, 1, 1), requester(n), Relation.RELATIVE, Scope.RECORDS
            )
        harness.clock.advance(minutes=1)
    with pytest.raises(LookupLocked) as locked:  # the right date, from someone new
        await harness.backend.request_access(
            p.policy, p.birth_date, requester("new"), Relation.RELATIVE, Scope.RECORDS
        )
    # Free again when the first failure leaves its hour: 60 minutes after it, 55 from now.
    assert 55 * 60 - 5 <= locked.value.retry_after <= 55 * 60
    assert await harness.sandbox.sms_outbox(p.phone) == []  # nothing reached the owner
    with pytest.raises(LookupLocked):  # find_patient and link_child are look-ups too
        await harness.backend.find_patient(p.policy, p.birth_date)
    harness.clock.advance(seconds=locked.value.retry_after)
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, requester("new"), Relation.RELATIVE, Scope.RECORDS
    )
    assert ch.challenge_id


async def test_a_locked_policy_looks_the_same_whether_a_card_has_it_or_not(
    harness: Harness,
) -> None:
    known = await harness.persona("single")
    unknown = _nobodys_policy(1)
    for n in range(5):
        for policy in (known.policy, unknown):
            with pytest.raises(NotFound):
                await harness.backend.find_patient(policy, date(1950 + n, 1, 1))
    answers = []
    for policy in (known.policy, unknown):
        with pytest.raises(LookupLocked) as locked:
            await harness.backend.find_patient(policy, known.birth_date)
        answers.append(locked.value.to_payload())
    assert answers[0] == answers[1]


async def test_wrong_look_ups_are_capped_per_requester_across_policies(harness: Harness) -> None:
    for n in range(10):
        with pytest.raises(NotFound):
            await harness.backend.request_access(
                _nobodys_policy(n), date(1980, 1, 1), ME, Relation.RELATIVE, Scope.RECORDS
            )
    p = await harness.persona("elderly_mother")
    with pytest.raises(LookupLocked) as locked:  # an eleventh card, the right date
        await harness.backend.request_access(
            p.policy, p.birth_date, ME, Relation.RELATIVE, Scope.RECORDS
        )
    assert 3500 < locked.value.retry_after <= 3600
    # The card itself is not locked: someone else links it.
    await harness.link_relative("elderly_mother", requester("daughter"))
    harness.clock.advance(hours=1)
    await harness.backend.request_access(
        p.policy, p.birth_date, ME, Relation.RELATIVE, Scope.RECORDS
    )


async def test_wrong_look_ups_of_a_policy_are_capped_per_day(harness: Harness) -> None:
    p = await harness.persona("single")
    for hour in range(4):  # five an hour, for four hours: the day's twenty
        for n in range(5):
            with pytest.raises(NotFound):
                await harness.backend.find_patient(p.policy, date(1940 + hour, 1, 1 + n))
        harness.clock.advance(hours=1)
    with pytest.raises(LookupLocked) as locked:
        await harness.backend.find_patient(p.policy, p.birth_date)
    assert locked.value.retry_after > 3600  # the day's window, not the hour's
    harness.clock.advance(seconds=locked.value.retry_after)
    assert (await harness.backend.find_patient(p.policy, p.birth_date)).birth_date == p.birth_date


async def test_a_wrong_child_birth_date_counts_too(harness: Harness) -> None:
    own = await harness.link_self("mother", ME)
    child = await harness.persona("child")
    for n in range(5):
        with pytest.raises(NotFound):
            await harness.backend.link_child(
                own.grant_id, ME, child.policy, child.birth_date - timedelta(days=n + 1)
            )
    with pytest.raises(LookupLocked):
        await harness.backend.link_child(own.grant_id, ME, child.policy, child.birth_date)


async def test_malformed_look_ups_are_refused_and_not_counted(harness: Harness) -> None:
    p = await harness.persona("single")
    for _ in range(8):
        with pytest.raises(InvalidRequest):
            await harness.backend.find_patient(p.policy[:-1] + "x", p.birth_date)
        with pytest.raises(InvalidRequest):
            await harness.backend.find_patient(p.policy, date(2999, 1, 1))
    assert (await harness.backend.find_patient(p.policy, p.birth_date)).birth_date == p.birth_date
