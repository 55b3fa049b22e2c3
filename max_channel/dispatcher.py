"""The MAX bot: every update becomes one neutral input for `bot.flows.router`.

- `bot_started` (the Start button, or a `?start=` link): `Started` with its payload;
- a text: a command when it starts with "/", else `Text` (a menu label typed counts as the
  entry; the menu itself is inline buttons here);
- a contact from the `request_contact` button: `Contact`, "own" when the card carries the
  sender's own MAX account (the `max_info` MAX signs), as Telegram's `contact.user_id`;
- a button: `Press` with its payload;
- a sticker, a voice message, a picture, a file the bot did not ask for: `Media` (said
  plainly that the bot reads only text and buttons);
- `bot_stopped` (the person stopped the bot): no answer (MAX would refuse it); their row is
  marked blocked so the worker stops writing to them, as Telegram's block does
  (`handlers/membership.py`). Starting the bot again (`bot_started`) is coming back.
"""

from __future__ import annotations

from maxapi import Bot, Dispatcher
from maxapi.types import (
    BotStarted,
    BotStopped,
    ContactAttachmentPayload,
    MessageCallback,
    MessageCreated,
)

from bot.backend_budget import more_time
from bot.flows.inputs import Contact, Input, Media, Press, Started, Text, parse_text
from max_channel.render import MaxAnswer
from max_channel.turn import MaxParts, Sender, mark_stopped, run_turn


def _input_of(event: MessageCreated) -> Input:
    body, sender = event.message.body, event.message.sender
    if body is None:
        return Text("")
    for attachment in body.attachments or ():
        shared = attachment.payload
        if isinstance(shared, ContactAttachmentPayload):
            own = (
                sender is not None
                and shared.max_info is not None
                and shared.max_info.user_id == sender.user_id
            )
            phone = shared.vcf.phone if shared.vcf is not None else None
            return Contact(phone or "", own=own and bool(phone))
        kind = str(getattr(attachment, "type", "attachment"))
        if kind != "inline_keyboard":  # a keyboard is not something the person sent
            return Media(kind)
    return parse_text(body.text or "")


def _bot(event: BotStarted | MessageCreated | MessageCallback) -> Bot:
    bot = event.bot
    if bot is None:  # maxapi sets it on every update it dispatches
        raise RuntimeError("an update without its bot")
    return bot


def create_max_dispatcher(parts: MaxParts) -> Dispatcher:
    dispatcher = Dispatcher()

    @dispatcher.bot_started()
    async def started(event: BotStarted) -> None:
        user = event.user
        sender = Sender(user.user_id, event.chat_id, event.user_locale, user.first_name)
        answer = MaxAnswer(_bot(event), event.chat_id, more_time=more_time)
        await run_turn(parts, sender, Started(event.payload or ""), answer)

    @dispatcher.bot_stopped()
    async def stopped(event: BotStopped) -> None:
        await mark_stopped(parts, event.user.user_id)

    @dispatcher.message_created()
    async def message(event: MessageCreated) -> None:
        msg = event.message
        if msg.sender is None or msg.sender.is_bot or msg.recipient.chat_id is None:
            return  # not a person writing in a dialog
        chat_id = msg.recipient.chat_id
        sender = Sender(msg.sender.user_id, chat_id, event.user_locale, msg.sender.first_name)
        mid = msg.body.mid if msg.body is not None else None
        answer = MaxAnswer(_bot(event), chat_id, input_mid=mid, more_time=more_time)
        await run_turn(parts, sender, _input_of(event), answer)

    @dispatcher.message_callback()
    async def pressed(event: MessageCallback) -> None:
        callback, shown = event.callback, event.message
        user = callback.user
        chat_id = shown.recipient.chat_id if shown is not None else None
        # The FSM key's chat: the dialog's, or (an old message MAX did not include) the person.
        sender = Sender(user.user_id, chat_id or user.user_id, event.user_locale, user.first_name)
        answer = MaxAnswer(
            _bot(event),
            chat_id,
            user_id=user.user_id,
            callback_id=callback.callback_id,
            pressed_mid=shown.body.mid if shown is not None and shown.body is not None else None,
            more_time=more_time,
        )
        await run_turn(parts, sender, Press(callback.payload or ""), answer)

    return dispatcher
