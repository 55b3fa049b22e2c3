"""The card owner in control, children and privacy, through the real dispatcher against a real
sandbox backend: the owner is alerted and revokes (a forged revoke does nothing), a child is
linked without a code and drops at 15, /privacy counts people and forgetting revokes, an
appointments-only grant does not open the record, and a menu tap leaves the linking flow."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher
from sqlalchemy import select

from backend_client.models import Requester, Scope
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import LinkDraft, LinkedPerson, User
from bot.services import people as people_service
from bot.services.people import AccessRefused
from bot.settings import Settings
from keyboards.people import AccessAction, AccessCb, PersonAction, PersonCb
from keyboards.policies import LinkKind, LinkStartCb, ScopeChoice
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_flow_support import KEYS, fsm_data
from tests.unit.policies_support import Chat, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

# The sandbox (not ours) still calls `Result.tuples()`, deprecated in SQLAlchemy 2.1; reported.
pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

# --- the owner in control -------------------------------------------------------------------


async def test_owner_is_alerted_and_revokes(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    owner: Chat = await chat_for(3080, "Галина")
    await owner.link_own(backend, galina)
    daughter: Chat = await chat_for(3081, "Анна")
    await daughter.link_relative(backend, galina, label="Мама")

    alert = owner.security_alert(3080)
    assert "Кто-то получил доступ к вашей медкарте" in alert.text and "Анна" in alert.text
    revoke_data = alert.reply_markup.inline_keyboard[0][0].callback_data
    assert AccessCb.unpack(revoke_data).action is AccessAction.REVOKE

    await owner.text("🔑 У кого есть доступ")
    assert "1 из 5" in owner.said()

    await owner.press(revoke_data)
    ref = AccessCb.unpack(revoke_data).ref
    await owner.press(AccessCb(action=AccessAction.REVOKE_CONFIRM, ref=ref).pack())
    assert "отозван" in owner.said()
    await owner.text("🔑 У кого есть доступ")
    assert "Ни у кого, кроме вас" in owner.said()

    mama = (await people_rows(sessionmaker, 3081))[0]
    await daughter.press(PersonCb(action=PersonAction.PICK, id=mama.id).pack())
    assert "отозван или закончился" in daughter.alerts()[-1]
    assert await people_rows(sessionmaker, 3081) == []


async def test_forged_revoke_of_someone_elses_grant_does_nothing(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina, anna = await persona(backend, "elderly_mother"), await persona(backend, "mother")
    owner: Chat = await chat_for(3090, "Галина")
    await owner.link_own(backend, galina)
    daughter: Chat = await chat_for(3091, "Анна")
    await daughter.link_relative(backend, galina, label="Мама")
    alert = owner.security_alert(3090)
    stranger: Chat = await chat_for(3092)
    await stranger.link_own(backend, anna)
    await stranger.press(alert.reply_markup.inline_keyboard[0][0].callback_data)
    assert "уже закончился" in stranger.alerts()[-1]
    assert len(await people_rows(sessionmaker, 3091)) == 1


async def test_who_has_access_needs_own_card(chat_for, backend: SandboxBackend) -> None:
    me: Chat = await chat_for(3095)
    await me.text("🔑 У кого есть доступ")
    assert "Сначала привяжите свой полис" in me.said()


# --- children -------------------------------------------------------------------------------


async def test_child_is_linked_without_code_and_drops_at_15(
    chat_for, backend: SandboxBackend, clock: FrozenClock, sessionmaker: SessionMaker
) -> None:
    anna, egor = await persona(backend, "mother"), await persona(backend, "teen_turning_15")
    me: Chat = await chat_for(3100, "Анна")
    await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
    assert "Сначала привяжите свой полис" in me.said()
    await me.link_own(backend, anna)
    sms_before = len(await backend.sms_outbox(egor.phone))

    await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
    await me.text("Егор")
    await me.text(egor.policy)
    await me.text(egor.birth_date.strftime("%d.%m.%Y"))
    assert "«Егор» теперь в разделе «Мои люди»" in me.said()
    assert len(await backend.sms_outbox(egor.phone)) == sms_before  # no code for a child
    row = next(r for r in await people_rows(sessionmaker, 3100) if r.relation == "child")

    clock.advance(days=10)  # he turned 15
    await me.press(PersonCb(action=PersonAction.PICK, id=row.id).pack())
    assert "истёк" in me.alerts()[-1] or "отозван или закончился" in me.alerts()[-1]
    await me.text("👨‍👩‍👧 Мои люди")
    assert "Егор" not in me.said()


async def test_not_my_child_is_refused(chat_for, backend: SandboxBackend) -> None:
    alexey, polina = await persona(backend, "adult_son"), await persona(backend, "child")
    me: Chat = await chat_for(3110)
    await me.link_own(backend, alexey)
    await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
    await me.text("Полина")
    await me.text(polina.policy)
    await me.text(polina.birth_date.strftime("%d.%m.%Y"))
    assert "не указаны родителем" in me.said()


# --- privacy --------------------------------------------------------------------------------


async def test_privacy_counts_people_and_forget_revokes(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker, settings: Settings
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3120)
    await me.link_relative(backend, galina, label="Мама")
    await me.text("/privacy")
    assert "привязанных людей: 1" in me.said()
    await me.press("priv:fc")
    assert await backend.list_grants_received(requester_id_for(KEYS, 3120)) == []
    async with sessionmaker() as db:
        assert await db.scalar(select(LinkedPerson)) is None


async def test_appointments_only_grant_does_not_open_the_record(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3130)
    await me.link_relative(backend, galina, label="Мама", scope=ScopeChoice.APPOINTMENTS)
    row = (await people_rows(sessionmaker, 3130))[0]
    requester = Requester(id=requester_id_for(KEYS, 3130), display_name="Иван")
    async with sessionmaker() as db:
        user = await db.get(User, row.user_id)
        assert user is not None
        ok = await people_service.check_access(
            db, backend, user, row.id, Scope.APPOINTMENTS, requester, now=clock()
        )
        assert ok.id == row.id
        with pytest.raises(AccessRefused) as refused:
            await people_service.check_access(
                db, backend, user, row.id, Scope.RECORDS, requester, now=clock()
            )
    assert refused.value.reason == AccessRefused.SCOPE


async def test_a_menu_tap_leaves_the_flow(
    chat_for, backend: SandboxBackend, dispatcher: Dispatcher, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(3140)
    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await me.share_contact("+7 900 000-01-40")
    await me.text("👨‍👩‍👧 Мои люди")  # not read as a policy number
    assert "<b>Мои люди</b>" in me.said()
    assert await fsm_data(dispatcher, me.bot, 3140) == {}
    async with sessionmaker() as db:
        assert await db.scalar(select(LinkDraft)) is None
