"""My people on Telegram: routes to `bot.flows.people` and renders its screens (the list, one
person, removing them, and the whose-card picker for features)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Scope
from bot.clock import Clock
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.flows import people as flow
from bot.flows.context import FlowContext
from bot.flows.people import UNLINK_ASKED_KEY, Show
from bot.flows.screens import Screen
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services.people import REMEMBERED_PERSON_KEY, Person
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_PEOPLE
from keyboards.people import PersonAction, PersonCb

router = Router(name=__name__)

__all__ = ["UNLINK_ASKED_KEY", "ask_whose_card", "person_line", "router"]


def person_line(person: Person) -> str:
    return flow.person_line(_, get_i18n().current_locale, person)


def _show(query: CallbackQuery) -> Show:
    async def show(screens: Sequence[Screen]) -> bool:
        await answer_all(query, screens)
        return isinstance(query.message, Message)  # else nothing was shown in the chat

    return show


@router.message(Command("people"))
@router.message(F.text == MENU_PEOPLE)
async def my_people(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.show_people(flow_ctx, state))


@router.callback_query(PersonCb.filter(F.action == PersonAction.VIEW))
async def view_person(query: CallbackQuery, callback_data: PersonCb, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.person_viewed(flow_ctx, callback_data.id))


@router.callback_query(PersonCb.filter(F.action == PersonAction.UNLINK))
async def unlink_ask(
    query: CallbackQuery, callback_data: PersonCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await flow.unlink_asked(flow_ctx, state, callback_data.id, _show(query))


@router.callback_query(PersonCb.filter(F.action == PersonAction.UNLINK_CONFIRM))
async def unlink(
    query: CallbackQuery, callback_data: PersonCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await flow.unlink_confirmed(flow_ctx, state, callback_data.id, _show(query))


# --- whose card -----------------------------------------------------------------------------


async def ask_whose_card(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    needed: Scope,
    *,
    clock: Clock,
) -> Person | None:
    """For features acting on a patient: the person to act for, or None after asking.

    Asks "for whom?" with a keyboard of people when there is more than one and none was chosen
    in this conversation; the choice comes back through `PersonCb(action=PICK)`. The caller
    must still run `people_service.check_access` before touching the patient.
    """
    people = await people_service.list_people(session, FieldCipher(keys), user, clock())
    remembered = (await state.get_data()).get(REMEMBERED_PERSON_KEY)
    answer = flow.pick_or_ask(_, people, remembered, needed)
    if isinstance(answer, Screen):
        await send_all(message, [answer])
        return None
    return answer


@router.callback_query(PersonCb.filter(F.action == PersonAction.PICK))
async def person_picked(
    query: CallbackQuery, callback_data: PersonCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.person_picked(flow_ctx, state, callback_data.id))
