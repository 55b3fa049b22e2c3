"""Linking cards: my own policy, a relative's (code from the owner's SMS), a child under 15.

Thin: reads what the user sent, calls `bot.services.linking`, answers. FSM data holds only the
draft row id; the policy and birth date sit encrypted in that row until the link is made.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

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
from backend_client.models import Challenge, Grant, Relation, Scope
from backend_client.protocol import (
    CODE_LENGTH,
    MAX_RECIPIENTS,
    SENDS_PER_DAY,
    SENDS_PER_HOUR,
    RecordsBackend,
)
from bot.clock import Clock
from bot.crypto import FieldCipher, requester_id_for
from bot.db.models import LinkDraft, LinkedPerson, User
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.services import linking
from bot.services import people as people_service
from bot.services.appointments.clock import MOSCOW
from handlers.access_texts import (
    delete_sensitive,
    esc,
    lookup_locked_text,
    requester_of,
    scope_text,
    sensitive_deleted_text,
    try_again_text,
    until_text,
    wait_text,
)
from handlers.people import person_line
from keyboards.menu import MENU_HELP, main_menu, menu_texts
from keyboards.people import revoke_keyboard
from keyboards.policies import (
    AsRelativeCb,
    CodeAction,
    CodeCb,
    LinkKind,
    LinkStartCb,
    ScopeCb,
    ScopeChoice,
    TermCb,
    as_relative_keyboard,
    code_keyboard,
    restart_keyboard,
    scope_keyboard,
    send_code_keyboard,
    share_phone_keyboard,
    term_keyboard,
)

router = Router(name=__name__)
logger = logging.getLogger(__name__)

DRAFT_KEY = "draft_id"
SEND_AFTER_KEY = "send_after"
"""FSM data: when the held-back code may be sent (epoch seconds), while in `LinkFlow.send`."""
ASKED_KEY = "asked"
"""FSM data: `linking.AskedCode` of the code sent, while in `LinkFlow.code` (to finish a link
whose confirm went through at the backend before a crash)."""
_RELATIONS = {
    LinkKind.SELF: Relation.SELF,
    LinkKind.RELATIVE: Relation.RELATIVE,
    LinkKind.CHILD: Relation.CHILD,
}
_SCOPES = {ScopeChoice.APPOINTMENTS: Scope.APPOINTMENTS, ScopeChoice.RECORDS: Scope.RECORDS}


def not_menu_button(message: Message) -> bool:
    """A tap on a main-menu button or a command leaves the flow (its own handler takes it)
    rather than being read as a policy, a name or a code."""
    text = message.text
    if text is None:
        return True
    return not (text.startswith("/") or text in menu_texts())


def leaves_linking(message: Message) -> bool:
    """A menu button or a command that opens something else (not Help, not /cancel, which
    answer for themselves): the unfinished linking ends, and the user is told so."""
    text = message.text or ""
    if text.startswith("/"):
        command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if text[1:] else ""
        return command not in {"help", "cancel"}
    return text in menu_texts() and text != str(MENU_HELP)


class LinkFlow(StatesGroup):
    phone = State()
    label = State()
    policy = State()
    birth_date = State()
    scope = State()
    term = State()
    send = State()
    """The answers are in; the code waits for the one-SMS-a-minute pause ("Send the code")."""
    code = State()
    adult = State()
    """A "child" turned out to be 15 or older: "Add as a relative" goes on with the answers."""


async def linking_interrupted(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """Registered first of all (in `handlers.start`) for `LinkFlow` states and `leaves_linking`:
    ends the linking, says so in one line, then lets the button's own handler answer."""
    await state.clear()
    await linking.drop_drafts(session, user)
    log_event(logger, "link.interrupted", user=pseudonym(user.telegram_id))
    await message.answer(_("Linking the policy was cancelled."))
    raise SkipHandler


async def _end(state: FSMContext, session: AsyncSession, user: User) -> None:
    """The attempt is over: the FSM and the encrypted draft both go."""
    await state.clear()
    await linking.drop_drafts(session, user)


async def _draft(state: FSMContext, session: AsyncSession, user: User) -> LinkDraft | None:
    data = await state.get_data()
    return await linking.get_draft(session, user, data.get(DRAFT_KEY))


async def _lost(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(
        _("This request is no longer valid. Please start again from My people."),
        reply_markup=main_menu(),
    )


async def _draft_or_lost(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> LinkDraft | None:
    """The open draft; None after telling the user it is gone (the flow is cleared)."""
    draft = await _draft(state, session, user)
    if draft is None:
        await _lost(message, state)
    return draft


async def _pressed_draft(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User
) -> tuple[Message, LinkDraft] | None:
    """A flow button, answered: its message and the open draft; None when the message is no
    longer accessible, or after `_lost`."""
    await query.answer()
    if not isinstance(query.message, Message):
        return None
    draft = await _draft_or_lost(query.message, state, session, user)
    return None if draft is None else (query.message, draft)


# --- start ----------------------------------------------------------------------------------


@router.callback_query(LinkStartCb.filter())
async def start_link(
    query: CallbackQuery,
    callback_data: LinkStartCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    clock: Clock,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    now = clock()
    relation = _RELATIONS[callback_data.kind]
    if relation is Relation.SELF:
        own = await people_service.own_card(session, user, now)
        if own is not None:
            # An old "My own policy" button: nothing to link, and whatever the user was doing
            # (a booking, say) stays as it was.
            person = people_service.to_person(FieldCipher(keys), own)
            await query.message.answer(
                _("Your own card is already linked:") + "\n" + person_line(person)
            )
            return
    if relation is Relation.CHILD and await people_service.own_card(session, user, now) is None:
        await query.message.answer(
            _(
                "A child is linked through the parent's own card. First link your own policy: "
                "My people → My own policy."
            )
        )
        return
    draft = await linking.start_draft(session, user, relation, now)
    await state.set_data({DRAFT_KEY: draft.id})
    if not await linking.has_verified_phone(session, user):
        await state.set_state(LinkFlow.phone)
        await query.message.answer(
            _(
                "First, confirm your phone number: tap the button below to share your Telegram "
                "contact. The bot keeps only a protected fingerprint of it, not the number."
            ),
            reply_markup=share_phone_keyboard(),
        )
        return
    await _ask_first_step(query.message, state, relation)


async def _ask_first_step(message: Message, state: FSMContext, relation: Relation) -> None:
    if relation is Relation.SELF:
        await _ask_policy(message, state, _("Let's link your own OMS policy."))
        return
    await state.set_state(LinkFlow.label)
    prompt = (
        _("What should we call this child? For example: Masha. Only you will see this name.")
        if relation is Relation.CHILD
        else _("What should we call this person? For example: Mum. Only you will see this name.")
    )
    await message.answer(prompt, reply_markup=main_menu())


async def _ask_policy(message: Message, state: FSMContext, lead: str) -> None:
    await state.set_state(LinkFlow.policy)
    await message.answer(
        lead
        + "\n"
        + _(
            "Enter the OMS policy number (16 digits, spaces and dashes are fine). "
            "The message will be deleted from the chat once read."
        ),
        reply_markup=main_menu(),
    )


# --- phone ----------------------------------------------------------------------------------


@router.message(LinkFlow.phone, F.contact)
async def phone_shared(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    clock: Clock,
) -> None:
    contact = message.contact
    assert contact is not None
    if message.from_user is None or contact.user_id != message.from_user.id:
        log_event(logger, "security.foreign_contact", user=pseudonym(user.telegram_id))
        await delete_sensitive(message)  # someone else's number is not ours to keep in the chat
        await message.answer(
            _(
                "This is not your own contact. Please share your own number with the button "
                "below; other people's numbers are not accepted."
            ),
            reply_markup=share_phone_keyboard(),
        )
        return
    await linking.remember_phone(session, FieldCipher(keys), user, contact.phone_number, clock())
    await delete_sensitive(message)
    draft = await _draft_or_lost(message, state, session, user)
    if draft is None:
        return
    await message.answer(_("Thank you, your phone is confirmed."), reply_markup=main_menu())
    await _ask_first_step(message, state, Relation(draft.relation))


@router.message(LinkFlow.phone, not_menu_button)
async def phone_expected(message: Message) -> None:
    kind = linking.looks_sensitive(message.text)
    if kind is not None:
        await delete_sensitive(message)
        await message.answer(
            sensitive_deleted_text(kind)
            + " "
            + _("First share your phone number with the button below; the policy comes next."),
            reply_markup=share_phone_keyboard(),
        )
        return
    await message.answer(
        _("Please tap the “Share my phone number” button below, or send /cancel."),
        reply_markup=share_phone_keyboard(),
    )


# --- label, policy, birth date --------------------------------------------------------------


@router.message(LinkFlow.label, F.text, not_menu_button)
async def label_entered(
    message: Message, state: FSMContext, session: AsyncSession, user: User, keys: AppKeys
) -> None:
    kind = linking.looks_sensitive(message.text)
    if kind is not None:  # a policy typed where the name was asked: not a name to keep
        await delete_sensitive(message)
        await message.answer(
            sensitive_deleted_text(kind)
            + " "
            + _("First type a name for this person, for example: Mum; the policy comes next.")
        )
        return
    draft = await _draft_or_lost(message, state, session, user)
    if draft is None:
        return
    try:
        label = linking.parse_label(message.text or "")
    except linking.LabelInputError as error:
        if error.reason == linking.LabelInputError.TOO_LONG:
            await message.answer(
                _("That is too long. Please use at most {n} characters.").format(
                    n=linking.LABEL_MAX_LENGTH
                )
            )
        else:
            await message.answer(_("Please type a name, for example: Mum."))
        return
    linking.set_draft_label(FieldCipher(keys), draft, label)
    await _ask_policy(message, state, _("Now the policy of {label}.").format(label=esc(label)))


def policy_error_text(error: linking.PolicyInputError) -> str:
    if error.reason == linking.PolicyInputError.NOT_DIGITS:
        return _("The policy number may contain only digits (spaces and dashes are fine).")
    if error.reason == linking.PolicyInputError.LENGTH:
        return _("The policy number has 16 digits. Please check it and enter it again.")
    return _(
        "This policy number has a typo: its last (check) digit does not match. "
        "Please check it against the policy and enter it again."
    )


def birth_date_error_text(error: linking.BirthDateInputError) -> str:
    if error.reason == linking.BirthDateInputError.FUTURE:
        return _("The birth date cannot be in the future. Please check it.")
    if error.reason == linking.BirthDateInputError.IMPOSSIBLE:
        return _("There is no such date. Please check the day and the month.")
    if error.reason == linking.BirthDateInputError.TOO_OLD:
        return _("Please check the year of birth.")
    return _("Please enter the birth date like 01.02.1980.")


@router.message(LinkFlow.policy, F.text, not_menu_button)
async def policy_entered(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    clock: Clock,
) -> None:
    await delete_sensitive(message)
    draft = await _draft_or_lost(message, state, session, user)
    if draft is None:
        return
    try:
        policy = linking.parse_policy(message.text or "")
    except linking.PolicyInputError as error:
        await message.answer(policy_error_text(error))
        return
    cipher = FieldCipher(keys)
    now = clock()
    requester_id = requester_id_for(keys, user.telegram_id)
    wait = await linking.lookup_wait(session, cipher, requester_id, policy, now)
    if wait > 0:  # said at once: no point answering the next questions to be refused
        await _lookup_locked(message, state, session, user, LookupLocked(wait), now)
        return
    linking.set_draft_policy(cipher, draft, policy)
    await state.set_state(LinkFlow.birth_date)
    await message.answer(_("Policy accepted. Now the birth date, for example 01.02.1980."))


@router.message(LinkFlow.birth_date, F.text, not_menu_button)
async def birth_date_entered(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    await delete_sensitive(message)
    draft = await _draft_or_lost(message, state, session, user)
    if draft is None:
        return
    today = clock().astimezone(MOSCOW).date()
    try:
        born = linking.parse_birth_date(message.text or "", today)
    except linking.BirthDateInputError as error:
        await message.answer(birth_date_error_text(error))
        return
    linking.set_draft_birth_date(FieldCipher(keys), draft, born)
    relation = Relation(draft.relation)
    if relation is Relation.RELATIVE:
        await state.set_state(LinkFlow.scope)
        await message.answer(_("What may you do with this card?"), reply_markup=scope_keyboard())
        return
    if relation is Relation.CHILD:
        await _link_child(message, state, session, user, keys, backend, draft, clock())
        return
    await _request_code(message, state, session, user, keys, backend, draft, clock())


# --- scope and term (relatives) -------------------------------------------------------------


@router.callback_query(LinkFlow.scope, ScopeCb.filter())
async def scope_chosen(
    query: CallbackQuery,
    callback_data: ScopeCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
) -> None:
    pressed = await _pressed_draft(query, state, session, user)
    if pressed is None:
        return
    message, draft = pressed
    draft.scope = _SCOPES[callback_data.scope].value
    await message.edit_reply_markup(reply_markup=None)
    await state.set_state(LinkFlow.term)
    await message.answer(
        _("For how long? The owner can revoke the access at any time."),
        reply_markup=term_keyboard(),
    )


@router.callback_query(LinkFlow.term, TermCb.filter())
async def term_chosen(
    query: CallbackQuery,
    callback_data: TermCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    pressed = await _pressed_draft(query, state, session, user)
    if pressed is None:
        return
    message, draft = pressed
    term = linking.AccessTerm(callback_data.term.value)
    now = clock()
    draft.access_expires_at = linking.term_expires_at(term, now)
    await message.edit_reply_markup(reply_markup=None)
    await _request_code(message, state, session, user, keys, backend, draft, now, query)


# --- the code -------------------------------------------------------------------------------


def _code_sent_text(challenge: Challenge, label: str | None, now: datetime) -> str:
    """Where the code went, and nothing else about the card's owner.

    Before the code is confirmed, whoever typed a policy number and a birth date has proved
    nothing, so the owner's name (the backend's "Галина К.") is not shown: a relative is named
    by the user's own label ("Mum"). The masked phone "+7 *** ***-01-24" stays: it is what
    EMIAS and Gosuslugi show at this step, so a person knows which phone to look at (an old
    number, a relative's), and four digits of a phone do not identify its owner."""
    phone = esc(challenge.phone_masked)
    minutes = max(1, (int((challenge.expires_at - now).total_seconds()) + 59) // 60)
    if challenge.relation is Relation.SELF:
        lead = _("We sent a code by SMS to the phone linked to your card: {phone}.").format(
            phone=phone
        )
    elif label:
        lead = _(
            "We sent a code by SMS to the owner's phone: {phone}. The SMS says who asks for "
            "access and to what. Ask the owner ({label}) to tell you the code; only they can "
            "give it."
        ).format(phone=phone, label=esc(label))
    else:
        lead = _(
            "We sent a code by SMS to the owner's phone: {phone}. The SMS says who asks for "
            "access and to what. Ask the owner to tell you the code; only they can give it."
        ).format(phone=phone)
    return (
        lead
        + "\n"
        + ngettext(
            "Enter the {digits}-digit code here. It works for {n} minute.",
            "Enter the {digits}-digit code here. It works for {n} minutes.",
            minutes,
        ).format(digits=CODE_LENGTH, n=minutes)
    )


async def _request_code(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    draft: LinkDraft,
    now: datetime,
    query: CallbackQuery | None = None,
    pending: CallbackQuery | None = None,
) -> None:
    """Ask the backend to send the code. `query`: the button press that led here (already
    answered); `pending`: the "Send the code" press, answered here with the outcome."""
    press = pending or query
    tg_user = press.from_user if press is not None else message.from_user
    requester = await requester_of(session, keys, user, tg_user, now)
    cipher = FieldCipher(keys)
    try:
        challenge = await linking.request_code(session, backend, cipher, draft, requester, now)
    except LookupLocked as error:
        await _answer(pending)
        if pending is not None:
            await _drop_buttons(message)
        await _lookup_locked(message, state, session, user, error, now)
        return
    except RateLimited as error:
        await _send_refused(message, state, session, user, error, pending, now)
        return
    except (NotFound, InvalidRequest):
        await _answer(pending)
        await _ask_policy(
            message,
            state,
            _(
                "No medical card was found with this policy number and birth date. "
                "Please check both."
            ),
        )
        return
    except GrantLimitReached as error:
        await _answer(pending)
        await _end(state, session, user)
        await message.answer(_grant_limit_text(error.limit), reply_markup=main_menu())
        return
    if pending is not None:
        await pending.answer(_("The code was sent"))
        await _drop_buttons(message)
    await state.set_state(LinkFlow.code)
    asked = linking.AskedCode.of(cipher, challenge)
    await state.set_data({DRAFT_KEY: draft.id, ASKED_KEY: asked.to_data()})
    log_event(
        logger, "link.code_requested", user=pseudonym(user.telegram_id), relation=draft.relation
    )
    label = linking.read_draft(cipher, draft).label
    await message.answer(_code_sent_text(challenge, label, now), reply_markup=code_keyboard())


async def _answer(pending: CallbackQuery | None) -> None:
    if pending is not None:
        await pending.answer()


async def _drop_buttons(message: Message) -> None:
    with contextlib.suppress(TelegramBadRequest):  # already without buttons
        await message.edit_reply_markup(reply_markup=None)


async def _send_refused(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    error: RateLimited,
    pending: CallbackQuery | None,
    now: datetime,
) -> None:
    """The backend held the SMS back. The one-a-minute pause keeps every answer and offers
    "Send the code" (pressed too early, it says how long is left); the hourly and daily caps
    end the attempt and say when to try again."""
    if linking.is_short_pause(error.retry_after):
        await state.set_state(LinkFlow.send)
        await state.update_data({SEND_AFTER_KEY: linking.send_after(now, error.retry_after)})
        log_event(logger, "link.code_paused", user=pseudonym(user.telegram_id))
        if pending is not None:
            await pending.answer(_send_in_text(error.retry_after), show_alert=True)
            return
        await message.answer(
            _(
                "The code can be sent in {wait}: an SMS code goes out at most once a minute "
                "for one card and one user. Your answers are kept; tap “📨 Send the code” when "
                "the pause is over."
            ).format(wait=wait_text(error.retry_after)),
            reply_markup=send_code_keyboard(),
        )
        return
    await _answer(pending)
    if pending is not None:
        await _drop_buttons(message)
    await _end(state, session, user)
    log_event(logger, "link.code_capped", user=pseudonym(user.telegram_id))
    await message.answer(
        _caps_text()
        + " "
        + _("This attempt is over and your answers were deleted.")
        + " "
        + try_again_text(error.retry_after, now),
        reply_markup=main_menu(),
    )


async def _lookup_locked(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    error: LookupLocked,
    now: datetime,
) -> None:
    """Too many wrong birth dates for this policy or from this account (the bot's count or the
    backend's): the attempt ends, and the person is told when they may try again."""
    await _end(state, session, user)
    log_event(logger, "link.lookup_locked", user=pseudonym(user.telegram_id))
    await message.answer(
        lookup_locked_text(error.retry_after, now)
        + " "
        + _("This attempt is over and your answers were deleted."),
        reply_markup=main_menu(),
    )


def _send_in_text(seconds: int) -> str:
    return _("The code can be sent in {wait}.").format(wait=wait_text(seconds))


def _caps_text() -> str:
    return _(
        "Too many codes were requested for this card or by you: at most {per_hour} an hour "
        "and {per_day} a day."
    ).format(per_hour=SENDS_PER_HOUR, per_day=SENDS_PER_DAY)


@router.callback_query(LinkFlow.send, CodeCb.filter(F.action == CodeAction.SEND))
async def send_code_now(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    """The held-back code: the backend decides whether the pause is over (its clock is the one
    that counts), and says how long is left if not."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    draft = await _draft(state, session, user)
    if draft is None:
        await query.answer()
        await _lost(query.message, state)
        return
    await _request_code(
        query.message, state, session, user, keys, backend, draft, clock(), pending=query
    )


@router.message(LinkFlow.send, not_menu_button)
async def code_not_sent_yet(message: Message, state: FSMContext, clock: Clock) -> None:
    """Anything typed while the code waits; a code-like number (an old SMS) is deleted."""
    kind = linking.looks_sensitive(message.text)
    if kind is not None:
        await delete_sensitive(message)
    left = linking.seconds_until((await state.get_data()).get(SEND_AFTER_KEY), clock())
    lead = _("Message deleted.") + " " if kind is not None else ""
    if left > 0:
        text = _(
            "The code has not been sent yet: tap “📨 Send the code” in {wait}, then type the "
            "code from the SMS here."
        ).format(wait=wait_text(left))
    else:
        text = _(
            "The code has not been sent yet: tap “📨 Send the code”, then type the code from "
            "the SMS here."
        )
    await message.answer(lead + text, reply_markup=send_code_keyboard())


def _grant_limit_text(limit: int) -> str:
    return ngettext(
        "The owner of this card has already given access to {n} person, the most allowed. "
        "They can revoke someone's access in their EMK (or in this bot) and then you can try "
        "again.",
        "The owner of this card has already given access to {n} people, the most allowed. "
        "They can revoke someone's access in their EMK (or in this bot) and then you can try "
        "again.",
        limit or MAX_RECIPIENTS,
    ).format(n=limit or MAX_RECIPIENTS)


@router.message(LinkFlow.code, F.text, not_menu_button)
async def code_entered(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    bot: Bot,
    i18n: I18n,
    clock: Clock,
) -> None:
    code = (message.text or "").strip()
    await delete_sensitive(message)
    draft = await _draft(state, session, user)
    if draft is None or draft.challenge_id is None:
        await _lost(message, state)
        return
    if not (code.isdigit() and code.isascii() and len(code) == CODE_LENGTH):
        await message.answer(
            _("The code has {digits} digits. Please enter it again.").format(digits=CODE_LENGTH)
        )
        return
    now = clock()
    requester = await requester_of(session, keys, user, message.from_user, now)
    cipher = FieldCipher(keys)
    asked = linking.AskedCode.from_data((await state.get_data()).get(ASKED_KEY))
    try:
        linked = await linking.confirm_code(
            session, backend, cipher, user, draft, code, requester, now, asked
        )
    except CodeWrong as error:
        if error.attempts_left <= 0:
            await message.answer(_exhausted_text(), reply_markup=restart_keyboard())
            return
        await message.answer(
            ngettext(
                "Wrong code. {n} attempt left.",
                "Wrong code. {n} attempts left.",
                error.attempts_left,
            ).format(n=error.attempts_left)
        )
        return
    except CodeExpired:
        await message.answer(
            _("This code has expired. Tap “Send the code again” to get a new one."),
            reply_markup=code_keyboard(),
        )
        return
    except CodeExhausted:
        await message.answer(_exhausted_text(), reply_markup=restart_keyboard())
        return
    except GrantLimitReached as error:
        await state.clear()
        await message.answer(_grant_limit_text(error.limit), reply_markup=main_menu())
        return
    except NotFound:
        await _lost(message, state)
        return
    await state.clear()
    await _linked(message, linked.person, cipher)
    if linked.grant.relation is not Relation.SELF:
        await _alert_owners(bot, i18n, session, cipher, user, linked.grant)


def _exhausted_text() -> str:
    return _(
        "Too many wrong codes: this request is closed for safety. Tap “Start over” to "
        "request a new code."
    )


async def _linked(message: Message, person: LinkedPerson, cipher: FieldCipher) -> None:
    view = people_service.to_person(cipher, person)
    if view.relation is Relation.SELF:
        text = _("Done: your medical card is linked. You will find it in My people.")
    else:
        text = _("Done: {label} is now in My people ({scope}, {until}).").format(
            label=esc(view.label), scope=scope_text(view.scope), until=until_text(view.expires_at)
        )
    log_event(logger, "link.done", relation=view.relation.value)
    await message.answer(text, reply_markup=main_menu())


async def _alert_owners(
    bot: Bot,
    i18n: I18n,
    session: AsyncSession,
    cipher: FieldCipher,
    user: User,
    grant: Grant,
) -> None:
    """Tell the card's owner at once, if they use this bot, with a button to revoke."""
    ref = people_service.grant_ref(cipher, grant.grant_id)
    owners = await linking.owners_to_alert(session, cipher, grant.patient_id, user)
    for telegram_id, language in owners:
        with i18n.use_locale(language or i18n.default_locale):
            text = _(
                "🔐 <b>Someone got access to your medical card</b>\n"
                "{name}: {scope}, {until}.\n"
                "If you did not pass on the code, revoke the access now."
            ).format(
                name=esc(grant.requester_name),
                scope=scope_text(grant.scope),
                until=until_text(grant.expires_at),
            )
            markup = revoke_keyboard([(ref, grant.requester_name)])
        await bot.send_message(telegram_id, text, reply_markup=markup)
        log_event(logger, "access.owner_alerted", owner=pseudonym(telegram_id))


@router.callback_query(LinkFlow.code, CodeCb.filter(F.action == CodeAction.RESEND))
async def resend(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    draft = await _draft(state, session, user)
    if not isinstance(query.message, Message):
        await query.answer()
        return
    if draft is None:
        await query.answer()
        await _lost(query.message, state)
        return
    now = clock()
    requester = await requester_of(session, keys, user, query.from_user, now)
    try:
        challenge = await linking.resend_code(backend, draft, requester)
    except RateLimited as error:
        if linking.is_short_pause(error.retry_after):
            text = _("A new code can be sent in {wait}.").format(wait=wait_text(error.retry_after))
        else:  # the caps: the code already sent may still work until it expires
            text = _caps_text() + " " + try_again_text(error.retry_after, now)
        await query.answer(text, show_alert=True)
        return
    except (CodeExhausted, NotFound, AccessDenied):
        await query.answer()
        await query.message.answer(
            _("This request is closed. Tap “Start over” to request a new code."),
            reply_markup=restart_keyboard(),
        )
        return
    await query.answer(_("A new code was sent"))
    label = linking.read_draft(FieldCipher(keys), draft).label
    await query.message.answer(_code_sent_text(challenge, label, now), reply_markup=code_keyboard())


@router.callback_query(LinkFlow.code, CodeCb.filter(F.action == CodeAction.RESTART))
async def restart(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User
) -> None:
    pressed = await _pressed_draft(query, state, session, user)
    if pressed is None:
        return
    message, draft = pressed
    # A new request with fresh data: the old code (if any) simply expires unused.
    draft.challenge_id = None
    await _ask_policy(message, state, _("Let's start over."))


# --- children -------------------------------------------------------------------------------


async def _link_child(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    draft: LinkDraft,
    now: datetime,
) -> None:
    own = await people_service.own_card(session, user, now)
    if own is None:
        await _end(state, session, user)
        await message.answer(
            _("First link your own policy: My people → My own policy."), reply_markup=main_menu()
        )
        return
    cipher = FieldCipher(keys)
    data = linking.read_draft(cipher, draft)
    if not linking.child_age_ok(data.birth_date, now.astimezone(MOSCOW).date()):
        await _too_old(message, state)
        return
    existing = await linking.linked_child(session, cipher, user, data.policy, now)
    if existing is not None:
        await _end(state, session, user)
        label = people_service.to_person(cipher, existing).label
        await message.answer(
            _("This child is already in My people as “{label}”; nothing was changed.").format(
                label=esc(label)
            ),
            reply_markup=main_menu(),
        )
        return
    requester = await requester_of(session, keys, user, message.from_user, now)
    try:
        person = await linking.link_child(
            session, backend, cipher, user, draft, own.grant_id, requester, now
        )
    except LookupLocked as error:
        await _lookup_locked(message, state, session, user, error, now)
        return
    except (NotFound, InvalidRequest):
        await _ask_policy(
            message,
            state,
            _("No child's card was found with this policy and birth date. Please check both."),
        )
        return
    except AccessDenied as error:
        if error.reason == AccessDenied.REASON_CHILD_TOO_OLD:
            await _too_old(message, state)
            return
        await _end(state, session, user)
        await message.answer(_child_refusal_text(error.reason), reply_markup=main_menu())
        return
    await state.clear()
    await _linked(message, person, cipher)


async def _too_old(message: Message, state: FSMContext) -> None:
    """15 or older: no longer a parent's link; the same answers can go on as a relative's."""
    await state.set_state(LinkFlow.adult)
    await message.answer(
        _(
            "This person is already 15 or older — add them as a relative, with the code from "
            "the SMS: it goes to the phone linked to their card, and they tell it to you. "
            "Your answers are kept."
        ),
        reply_markup=as_relative_keyboard(),
    )


@router.callback_query(LinkFlow.adult, AsRelativeCb.filter())
async def go_on_as_relative(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    draft = await _draft(state, session, user)
    if draft is None:
        await _lost(query.message, state)
        return
    linking.link_as_relative(draft)
    await _drop_buttons(query.message)
    await state.set_state(LinkFlow.scope)
    await query.message.answer(_("What may you do with this card?"), reply_markup=scope_keyboard())


def _child_refusal_text(reason: str) -> str:
    if reason == AccessDenied.REASON_NOT_PARENT:
        return _(
            "The register does not list you as this child's parent. Please contact your clinic "
            "to check the family records."
        )
    return _("Your own card link is no longer active. Please link your own policy again.")


# --- fallbacks (registered last: the specific handlers above win) ---------------------------


@router.message(LinkFlow.label, not_menu_button)
@router.message(LinkFlow.policy, not_menu_button)
@router.message(LinkFlow.birth_date, not_menu_button)
@router.message(LinkFlow.code, not_menu_button)
async def text_expected(message: Message) -> None:
    await message.answer(_("Please send it as a text message, or /cancel to stop."))


@router.message(LinkFlow.scope, not_menu_button)
@router.message(LinkFlow.term, not_menu_button)
@router.message(LinkFlow.adult, not_menu_button)
async def button_expected(message: Message) -> None:
    kind = linking.looks_sensitive(message.text)
    lead = ""
    if kind is not None:
        await delete_sensitive(message)
        lead = sensitive_deleted_text(kind) + " "
    await message.answer(lead + _("Please choose with the buttons above, or send /cancel to stop."))
