"""Contract: what a grant allows once made — at most five recipients (checked again at confirm
time), the owner listing and revoking recipients, expiry, the appointments-only scope, other
people's grants, parents linking children without a code, and access events in the feed.
Runs on every backend adapter (``harness`` in conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend_client.errors import (
    AccessDenied,
    CodeExhausted,
    CodeExpired,
    GrantLimitReached,
    InvalidRequest,
    NotFound,
)
from backend_client.models import EventKind, Relation, Scope, Section
from tests.backend.access_contract_support import ME
from tests.backend.conftest import Harness, requester


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
