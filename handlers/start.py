"""First conversation (language, consent, main menu): Telegram's routes into `bot.flows.start`."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.flows import start as flow
from bot.flows.context import FlowContext
from handlers.policies import LinkFlow, answer_press, leaves_linking, linking_interrupted
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_LANGUAGE, main_menu
from keyboards.start import ConsentAction, ConsentCb, LanguageCb

router = Router(name=__name__)

# Registered before everything else: a menu button or a command in the middle of linking ends
# the linking with one line saying so, then the button's own handler answers (`SkipHandler`);
# Help, /cancel and the language do not end it.
router.message(StateFilter(LinkFlow), leaves_linking)(linking_interrupted)


async def show_menu(message: Message, text: str | None = None) -> None:
    await message.answer(text or _("Main menu. Choose what to do:"), reply_markup=main_menu())


@router.message(CommandStart())
async def start(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await state.clear()
    await send_all(message, flow.start(flow_ctx))


@router.message(Command("language"))
@router.message(F.text == MENU_LANGUAGE)
async def choose_language(message: Message) -> None:
    await send_all(message, flow.choose_language())


@router.callback_query(LanguageCb.filter())
async def language_chosen(
    query: CallbackQuery, callback_data: LanguageCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    # Mid-linking the conversation goes on (its step said again): not dropped by the choice.
    shown = await flow.language_chosen_in(flow_ctx, state, callback_data.code)
    await answer_press(query, shown, flow_ctx)


@router.callback_query(ConsentCb.filter(F.action == ConsentAction.ACCEPT))
async def consent_accepted(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.consent_accepted(flow_ctx))


@router.callback_query(ConsentCb.filter(F.action == ConsentAction.DECLINE))
async def consent_declined(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, flow.consent_declined(flow_ctx))
