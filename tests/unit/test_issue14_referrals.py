"""Issue 14 (4): booking by a referral offers the referral's target clinic's doctors."""

from __future__ import annotations

import pytest

from backend_client.models import Doctor, Section
from bot.flows import booking as flow
from bot.flows import booking_actions as ids
from bot.flows.appointment_common import acting_for
from bot.flows.screens import Placement
from bot.services.appointments.booking import DRAFT_KEY
from tests.unit.booking_flow_support import Talk, family, last_shown
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings

__all__ = ["backend", "chat_for", "clock", "family", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


async def test_a_referral_offers_its_target_clinics_doctors(family: Talk) -> None:
    [who] = await flow.book_start(family.ctx, family.memory)
    family.screen = who
    mum = next(b.action for b in who.buttons if "Мама" in b.text)
    await family.press(mum)
    person_id = (await family.memory.get_data())[DRAFT_KEY]["person_id"]
    acting = await acting_for(family.ctx, person_id, "book")
    referrals = await family.backend.list_referrals(acting.grant_id, acting.requester_id)
    assert referrals
    for referral in referrals:
        assert referral.clinic is not None
        family.screen = who
        await family.press(mum)
        await family.press(f"ap:r:{referral.referral_id}")
        assert family.screen is not None
        doctors = family.on_screen("ap:d:")
        assert doctors, family.screen.text
        assert referral.clinic.name in family.screen.text


async def test_doctors_of_other_clinics_are_not_offered_for_a_referral(
    family: Talk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend that answers a referral with its specialty's doctors everywhere (as one that
    ignores the referral's clinic would): the bot still offers the target clinic's only."""
    backend = family.backend
    real = backend.list_doctors

    async def everywhere(grant_id: str, requester_id: str, **kw: object) -> list[Doctor]:
        found = await real(grant_id, requester_id, **kw)  # type: ignore[arg-type]
        code = found[0].specialty.code if found else None
        others = [
            d
            for d in backend._catalog.doctors.values()
            if d.specialty.code == code and d not in found
        ]
        return [*others, *found]

    monkeypatch.setattr(backend, "list_doctors", everywhere)
    [who] = await flow.book_start(family.ctx, family.memory)
    family.screen = who
    mum = next(b.action for b in who.buttons if "Мама" in b.text)
    await family.press(mum)
    person_id = (await family.memory.get_data())[DRAFT_KEY]["person_id"]
    acting = await acting_for(family.ctx, person_id, "book")
    [endo] = [
        r
        for r in await backend.list_referrals(acting.grant_id, acting.requester_id)
        if r.specialty.code == "endocrinologist"
    ]
    assert endo.clinic is not None
    await family.press(f"ap:r:{endo.referral_id}")
    assert family.screen is not None
    offered = [a.split(":", 2)[2] for a in family.on_screen("ap:d:")]
    assert offered
    clinics = {backend._catalog.doctors[d].clinic.clinic_id for d in offered}
    assert clinics == {endo.clinic.clinic_id}


async def test_a_referral_card_has_book_by_this_referral(family: Talk) -> None:
    [who] = await flow.book_start(family.ctx, family.memory)
    family.screen = who
    mum = next(b.action for b in who.buttons if "Мама" in b.text)
    await family.press(mum)
    person_id = (await family.memory.get_data())[DRAFT_KEY]["person_id"]
    await family.memory.clear()  # the card is opened from the records, no booking open
    acting = await acting_for(family.ctx, person_id, "book")
    [endo] = [
        r
        for r in await family.backend.list_referrals(acting.grant_id, acting.requester_id)
        if r.specialty.code == "endocrinologist"
    ]
    assert endo.entry_id is not None and endo.clinic is not None
    rows = await ids.book_by_referral_rows(family.ctx, person_id, Section.REFERRALS, endo.entry_id)
    [[button]] = rows
    assert button.text == "📅 Book by this referral"
    assert await ids.book_by_referral_rows(family.ctx, person_id, Section.LABS, "e1") == ()
    screens = await family.press(button.action)
    shown = last_shown(screens)
    assert shown.placement is Placement.NEW and shown.protect  # the card stays
    assert endo.clinic.name in shown.text and family.on_screen("ap:d:")
    await family.tap("ap:d:")
    assert family.screen is not None
    assert "Choose a day" in family.screen.text or "No free times" in family.screen.text
