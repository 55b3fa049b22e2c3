"""Contract: finding patients, SMS-code linking, limits, children, grants and revocation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend_client.errors import (
    AccessDenied,
    CodeExhausted,
    CodeExpired,
    CodeWrong,
    GrantLimitReached,
    InvalidRequest,
    LookupLocked,
    NotFound,
    RateLimited,
)
from backend_client.models import EventKind, Relation, Scope, Section
from backend_client.policy import make_policy
from tests.backend.conftest import Harness, requester

ME = requester("me", "Анна С.")


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


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


async def test_at_most_five_recipients(harness: Harness) -> None:
    p = await harness.persona("elderly_father")
    for n in range(5):
        await harness.link_relative("elderly_father", requester(n))
        harness.clock.advance(minutes=61)  # stay under the per-phone send limit
    sixth = requester(6)
    with pytest.raises(GrantLimitReached):
        await harness.backend.request_access(
            p.policy, p.birth_date, sixth, Relation.RELATIVE, Scope.RECORDS
        )
    # An existing recipient may re-link (replaces their grant, not counted twice).
    again = await harness.link_relative("elderly_father", requester(0), Scope.APPOINTMENTS)
    assert again.scope is Scope.APPOINTMENTS


async def test_limit_is_checked_again_at_confirm_time(harness: Harness) -> None:
    p = await harness.persona("elderly_father")
    late = requester("late")
    ch = await harness.backend.request_access(
        p.policy, p.birth_date, late, Relation.RELATIVE, Scope.RECORDS
    )
    code = await harness.last_code(p.phone)
    harness.clock.advance(minutes=61)
    for n in range(5):
        await harness.link_relative("elderly_father", requester(n))
        harness.clock.advance(minutes=61)
    harness.clock.set(ch.expires_at - timedelta(minutes=1))  # still valid if time allowed
    with pytest.raises((GrantLimitReached, CodeExpired, CodeExhausted)):
        await harness.backend.confirm_access(ch.challenge_id, code, late)


async def test_limit_at_confirm_time_within_code_lifetime(harness: Harness) -> None:
    p = await harness.persona("elderly_father")
    for n in range(4):
        await harness.link_relative("elderly_father", requester(n))
        harness.clock.advance(minutes=61)
    a, b = requester("a"), requester("b")
    ch_a = await harness.backend.request_access(
        p.policy, p.birth_date, a, Relation.RELATIVE, Scope.RECORDS
    )
    code_a = await harness.last_code(p.phone)
    harness.clock.advance(seconds=61)
    ch_b = await harness.backend.request_access(
        p.policy, p.birth_date, b, Relation.RELATIVE, Scope.RECORDS
    )
    code_b = await harness.last_code(p.phone)
    await harness.backend.confirm_access(ch_b.challenge_id, code_b, b)  # the fifth
    with pytest.raises(GrantLimitReached):
        await harness.backend.confirm_access(ch_a.challenge_id, code_a, a)


async def test_owner_sees_and_revokes_recipients(harness: Harness) -> None:
    owner = requester("owner", "Галина К.")
    own = await harness.link_self("elderly_mother", owner)
    harness.clock.advance(seconds=61)
    daughter = await harness.link_relative("elderly_mother", ME)
    given = await harness.backend.list_grants_given(own.grant_id, owner)
    assert [g.grant_id for g in given] == [daughter.grant_id]
    assert given[0].requester_name == "Анна С."
    revoked = await harness.backend.revoke_grant(daughter.grant_id, owner)
    assert revoked.revoked_at is not None
    assert await harness.backend.list_grants_given(own.grant_id, owner) == []
    with pytest.raises(AccessDenied):
        await harness.backend.list_entries(daughter.grant_id, ME.id, Section.LABS)
    with pytest.raises(AccessDenied):
        await harness.backend.list_appointments(daughter.grant_id, ME.id)
    log = await harness.backend.access_log(own.grant_id, owner)
    assert [e.action.value for e in log][:2] == ["revoked", "granted"]
    kinds = [(e.kind, e.grant_id) for e in (await harness.backend.read_events(None)).events]
    assert kinds == [
        (EventKind.ACCESS_GRANTED, daughter.grant_id),
        (EventKind.ACCESS_REVOKED, daughter.grant_id),
    ]  # the owner's own link is not announced


async def test_only_the_owner_lists_recipients(harness: Harness) -> None:
    daughter = await harness.link_relative("elderly_mother", ME)
    with pytest.raises(AccessDenied):
        await harness.backend.list_grants_given(daughter.grant_id, ME)


async def test_grantee_unlinks_and_strangers_cannot_revoke(harness: Harness) -> None:
    grant = await harness.link_relative("elderly_mother", ME)
    with pytest.raises(AccessDenied):
        await harness.backend.revoke_grant(grant.grant_id, requester("stranger"))
    await harness.backend.revoke_grant(grant.grant_id, ME)
    assert await harness.backend.list_grants_received(ME.id) == []
    with pytest.raises(AccessDenied):
        await harness.backend.get_grant(grant.grant_id, ME)
    with pytest.raises(NotFound):
        await harness.backend.revoke_grant("g-unknown", ME)


async def test_grant_expires_to_the_minute(harness: Harness) -> None:
    until = harness.clock() + timedelta(days=1)
    grant = await harness.link_relative("elderly_mother", ME, Scope.RECORDS, until)
    harness.clock.set(until - timedelta(minutes=1))
    await harness.backend.list_entries(grant.grant_id, ME.id, Section.LABS)
    harness.clock.set(until)
    with pytest.raises(AccessDenied):
        await harness.backend.list_entries(grant.grant_id, ME.id, Section.LABS)
    with pytest.raises(AccessDenied):
        await harness.backend.list_specialties(grant.grant_id, ME.id)
    assert await harness.backend.list_grants_received(ME.id) == []


async def test_appointments_scope_cannot_read_the_record(harness: Harness) -> None:
    grant = await harness.link_relative("elderly_mother", ME, Scope.APPOINTMENTS)
    await harness.backend.list_specialties(grant.grant_id, ME.id)
    with pytest.raises(AccessDenied) as err:
        await harness.backend.list_entries(grant.grant_id, ME.id, Section.LABS)
    assert err.value.reason == "scope"
    with pytest.raises(AccessDenied):
        await harness.backend.analyte_history(grant.grant_id, ME.id, "HBA1C")


async def test_someone_elses_grant_is_denied(harness: Harness) -> None:
    grant = await harness.link_relative("elderly_mother", ME)
    with pytest.raises(AccessDenied):
        await harness.backend.list_entries(grant.grant_id, "tg-someone-else", Section.LABS)
    with pytest.raises(AccessDenied):
        await harness.backend.list_entries("g-unknown", ME.id, Section.LABS)
    with pytest.raises(AccessDenied):
        await harness.backend.get_grant(grant.grant_id, requester("other"))
    with pytest.raises(NotFound):
        await harness.backend.get_grant("g-unknown", ME)


async def test_parent_links_child_without_code(harness: Harness) -> None:
    own = await harness.link_self("mother", ME)
    child = await harness.persona("child")
    grant = await harness.backend.link_child(own.grant_id, ME, child.policy, child.birth_date)
    assert grant.relation is Relation.CHILD
    assert grant.scope is Scope.RECORDS
    assert grant.expires_at is not None
    assert grant.expires_at.date().year == child.birth_date.year + 15
    page = await harness.backend.list_entries(grant.grant_id, ME.id, Section.VACCINATIONS, limit=50)
    assert any("Корь" in e.title for e in page.items)


async def test_child_link_needs_family_relation_and_age_under_15(harness: Harness) -> None:
    own = await harness.link_self("father", ME)
    stranger_child = await harness.persona("single")
    with pytest.raises(AccessDenied) as err:
        await harness.backend.link_child(
            own.grant_id, ME, stranger_child.policy, stranger_child.birth_date
        )
    assert err.value.reason == "not_parent"
    harness.clock.advance(seconds=61)
    mother_of_anna = requester("gm", "Галина К.")
    gm = await harness.link_self("elderly_mother", mother_of_anna)
    anna = await harness.persona("mother")
    with pytest.raises(AccessDenied) as err:
        await harness.backend.link_child(gm.grant_id, mother_of_anna, anna.policy, anna.birth_date)
    assert err.value.reason == "child_too_old"
    child = await harness.persona("child")
    with pytest.raises(NotFound):
        await harness.backend.link_child(
            own.grant_id, ME, child.policy, child.birth_date + timedelta(days=1)
        )
    with pytest.raises(AccessDenied) as err:  # not a SELF grant
        await harness.backend.link_child("g-unknown", ME, child.policy, child.birth_date)
    assert err.value.reason == "not_owner"


async def test_child_turning_15_loses_parent_access(harness: Harness) -> None:
    own = await harness.link_self("mother", ME)
    teen = await harness.persona("teen_turning_15")
    grant = await harness.backend.link_child(own.grant_id, ME, teen.policy, teen.birth_date)
    assert grant.expires_at is not None
    assert (grant.expires_at - harness.clock()).days < 15
    await harness.backend.list_entries(grant.grant_id, ME.id, Section.PROTOCOLS)
    harness.clock.set(grant.expires_at)
    with pytest.raises(AccessDenied):
        await harness.backend.list_entries(grant.grant_id, ME.id, Section.PROTOCOLS)
    assert [g.relation for g in await harness.backend.list_grants_received(ME.id)] == [
        Relation.SELF
    ]


async def test_relation_child_is_not_requested_by_code(harness: Harness) -> None:
    p = await harness.persona("child")
    with pytest.raises(InvalidRequest) as err:
        await harness.backend.request_access(
            p.policy, p.birth_date, ME, Relation.CHILD, Scope.RECORDS
        )
    assert err.value.field == "relation"


async def test_expiry_in_the_past_is_invalid(harness: Harness) -> None:
    p = await harness.persona("elderly_mother")
    with pytest.raises(InvalidRequest) as err:
        await harness.backend.request_access(
            p.policy,
            p.birth_date,
            ME,
            Relation.RELATIVE,
            Scope.RECORDS,
            harness.clock() - timedelta(days=1),
        )
    assert err.value.field == "expires_at"


async def test_new_access_is_announced_in_the_event_feed(harness: Harness) -> None:
    grant = await harness.link_relative("elderly_mother", ME)
    batch = await harness.backend.read_events(None)
    granted = [e for e in batch.events if e.kind is EventKind.ACCESS_GRANTED]
    assert granted[-1].grant_id == grant.grant_id
    assert granted[-1].patient_id == grant.patient.patient_id


# --- wrong birth dates: counted, and capped ---------------------------------------------------


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
