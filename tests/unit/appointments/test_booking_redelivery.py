"""A booking survives our crash: the process that pressed "Confirm" dies after the backend
booked, Telegram delivers the same press again, and the person gets one appointment and sees
it — the idempotency key sits in the FSM before the backend is called."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.methods import EditMessageText

from backend_client.sandbox import SandboxBackend
from tests.unit.appointments.support import alerts_since, data_of, screen, to_confirmation
from tests.unit.policies_support import Chat, persona
from tests.updates import callback_update

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

BOOKED = "Запись создана"


class ReplicaKilled(Exception):
    """The process handling the update died at this point."""


async def new_visits(backend: SandboxBackend, policy: str, before: set[str]) -> list[Any]:
    return [v for v in await backend.appointments_of(policy) if v.appointment_id not in before]


async def ready_to_confirm(chat_for: Any, backend: SandboxBackend, telegram_id: int) -> Any:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(telegram_id, "Олег")
    await me.link_own(backend, oleg)
    before = {v.appointment_id for v in await backend.appointments_of(oleg.policy)}
    await to_confirmation(me, backend)
    press = callback_update(data_of(screen(me), "ab:ok:"), me.user)
    return me, oleg, before, press


async def test_killed_after_the_backend_booked_then_delivered_again(
    chat_for, backend: SandboxBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, oleg, before, press = await ready_to_confirm(chat_for, backend, 6401)
    real_book = backend.book
    keys: list[str] = []

    async def book_then_die(*args: Any, **kwargs: Any) -> Any:
        keys.append(args[3])
        visit = await real_book(*args, **kwargs)
        if len(keys) == 1:
            raise ReplicaKilled  # booked at the backend; the bot recorded nothing
        return visit

    monkeypatch.setattr(backend, "book", book_then_die)
    await me.dp.feed_update(me.bot, press)
    assert len(await new_visits(backend, oleg.policy, before)) == 1

    await me.dp.feed_update(me.bot, press)  # Telegram delivers the same update again
    assert keys[0] == keys[1]  # the same idempotency key, from the FSM
    assert len(await new_visits(backend, oleg.policy, before)) == 1  # still one appointment
    assert BOOKED in me.last_request("editMessageText").text
    assert me.last_request("sendDocument")  # and the calendar file


async def test_killed_before_the_confirmation_was_shown_then_delivered_again(
    chat_for, backend: SandboxBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, oleg, before, press = await ready_to_confirm(chat_for, backend, 6402)
    real = me.rec.make_request
    died: list[bool] = []

    async def die_on_the_first_confirmation(bot: Any, method: Any, timeout: Any = None) -> Any:
        if isinstance(method, EditMessageText) and BOOKED in (method.text or "") and not died:
            died.append(True)
            raise ReplicaKilled  # booked and remembered, but the person saw nothing
        return await real(bot, method, timeout)

    monkeypatch.setattr(me.rec, "make_request", die_on_the_first_confirmation)
    await me.dp.feed_update(me.bot, press)
    assert died

    since = len(me.rec.requests)
    await me.dp.feed_update(me.bot, press)
    assert len(await new_visits(backend, oleg.policy, before)) == 1
    assert any("Уже сделано" in a for a in alerts_since(me.rec, since))
    assert BOOKED in me.last_request("editMessageText").text  # the booked visit is on screen
