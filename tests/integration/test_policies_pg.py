"""My own card and a relative's card on PostgreSQL + Redis: the unit flows, for real storage."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend_client.sandbox import SandboxBackend
from bot.db.engine import SessionMaker
from bot.db.models import LinkDraft, LinkedPerson
from bot.settings import Settings
from keyboards.people import PersonAction, PersonCb
from tests.conftest import unthrottled
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template
from tests.unit.policies_support import Chat, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template"]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The production-like settings (this run's PostgreSQL and Redis), unthrottled."""
    return unthrottled(settings)


async def test_own_card_and_a_relative_on_postgres(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
) -> None:
    anna, galina = await persona(backend, "mother"), await persona(backend, "elderly_mother")
    me: Chat = await chat_for(4001, "Анна")
    await me.link_own(backend, anna)
    await me.link_relative(backend, galina, label="Мама")

    async with sessionmaker() as db:
        rows = list(await db.scalars(select(LinkedPerson).order_by(LinkedPerson.id)))
        assert await db.scalar(select(LinkDraft)) is None
    assert [r.relation for r in rows] == ["self", "relative"]
    assert all(anna.policy.encode() not in r.policy_enc for r in rows)
    assert rows[1].expires_at is not None and rows[1].expires_at.utcoffset() is not None

    await me.text("👨‍👩‍👧 Мои люди")
    assert "Мама" in me.said() and "моя медкарта" in me.said()
    await me.press(PersonCb(action=PersonAction.UNLINK, id=rows[1].id).pack())  # asked first
    await me.press(PersonCb(action=PersonAction.UNLINK_CONFIRM, id=rows[1].id).pack())
    async with sessionmaker() as db:
        left = list(await db.scalars(select(LinkedPerson.relation)))
    assert left == ["self"]
