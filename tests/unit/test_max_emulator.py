"""The offline MAX emulator drives a real maxapi bot, by long polling and by webhook.

A tiny bot (greeting with buttons, echo, callback, contact request, file upload) runs
against `bot.max_emulator` while a user driver acts as a person; then the errors MAX gives
for bad input: a wrong token, too long a text, flooding a chat, an unknown callback, an edit
of a gone or stale message.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import aiohttp
import pytest
from maxapi import Dispatcher, F
from maxapi.enums.parse_mode import ParseMode
from maxapi.enums.sender_action import SenderAction
from maxapi.enums.upload_type import UploadType
from maxapi.exceptions.max import InvalidToken, MaxApiError
from maxapi.filters import ContactFilter
from maxapi.types import (
    Attachment,
    AttachmentUpload,
    BotStarted,
    CallbackButton,
    ContactAttachmentPayload,
    InputMedia,
    InputMediaBuffer,
    LinkButton,
    MessageCallback,
    MessageCreated,
    OtherAttachmentPayload,
    RequestContactButton,
)
from maxapi.utils.inline_keyboard import InlineKeyboardBuilder

from bot.clock import FrozenClock
from bot.emulator.clock import Clock
from bot.max_emulator import MaxEmulatorServer, MaxRateLimits, MaxWorld
from bot.max_emulator.harness import emulator_bot, polling, webhook
from tests.sandbox_fixtures import frozen_clock

REPORT = "Анализ крови: норма\n".encode()


# maxapi's `attachments=` is an invariant list of this union: annotate, or mypy refuses.
Outgoing = list[Attachment | InputMedia | InputMediaBuffer | AttachmentUpload]


def keyboard(*buttons: CallbackButton | RequestContactButton | LinkButton) -> Outgoing:
    builder = InlineKeyboardBuilder()
    for button in buttons:
        builder.row(button)
    return [builder.as_markup()]


def tiny_bot() -> Dispatcher:
    dp = Dispatcher()

    @dp.bot_started()
    async def greet(event: BotStarted) -> None:
        buttons = keyboard(
            CallbackButton(text="Записаться", payload="book:42"),
            RequestContactButton(text="📱 Поделиться номером"),
            LinkButton(text="Сайт", url="https://example.org"),
        )
        assert event.bot is not None
        await event.bot.send_message(
            chat_id=event.chat_id, text="Здравствуйте!", attachments=buttons
        )

    @dp.message_callback(F.callback.payload == "book:42")
    async def book(event: MessageCallback) -> None:
        await event.answer(notification="Записано", new_text="Вы записаны на 10:00")

    @dp.message_created(ContactFilter())
    async def contact(event: MessageCreated) -> None:
        body, sender = event.message.body, event.message.sender
        assert body is not None and body.attachments and sender is not None
        shared = body.attachments[0].payload
        assert isinstance(shared, ContactAttachmentPayload)
        # Own phone: the card carries the sharer's MAX account (Telegram: contact.user_id).
        own = shared.max_info is not None and shared.max_info.user_id == sender.user_id
        await event.message.answer(f"Телефон {shared.vcf.phone}" if own else "Это не ваш номер")

    @dp.message_created(F.message.body.text == "/file")
    async def send_file(event: MessageCreated) -> None:
        await event.message.action(SenderAction.SENDING_FILE)
        media = InputMediaBuffer(REPORT, filename="report.txt", type=UploadType.FILE)
        await event.message.answer("Ваш отчёт", attachments=[media])

    @dp.message_created(F.message.body.text)
    async def echo(event: MessageCreated) -> None:
        assert event.message.body is not None and event.message.body.text is not None
        text = html.escape(event.message.body.text)
        await event.message.answer(f"<b>Эхо:</b> {text}", format=ParseMode.HTML)

    return dp


@pytest.fixture
def clock() -> FrozenClock:
    return frozen_clock()


@pytest.fixture
async def server(clock: FrozenClock) -> AsyncIterator[MaxEmulatorServer]:
    world = MaxWorld(clock=Clock(clock), allow_http_webhooks=True)
    async with MaxEmulatorServer(world, webhook_retry_delay=0.05) as running:
        yield running


async def raw_call(
    server: MaxEmulatorServer,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json: object = None,
) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": token} if token is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, server.base_url + path, headers=headers, json=json) as response,
    ):
        return response.status, await response.json()


def answered(error: MaxApiError) -> tuple[int, object]:
    """The HTTP status and MAX's error code behind a maxapi error."""
    return error.code, error.raw.get("code") if isinstance(error.raw, dict) else error.raw


async def test_a_person_uses_the_bot_by_long_polling(server: MaxEmulatorServer) -> None:
    world, bot = server.world, emulator_bot(server)
    async with polling(tiny_bot(), bot, server):
        user = world.user(1001, "Анна", last_name="С.", phone="+7 999 000-00-01")
        await user.start()
        greeting = user.last_message
        assert greeting.text == "Здравствуйте!"
        assert greeting.buttons == ["Записаться", "📱 Поделиться номером", "Сайт"]
        # MAX's dialog chat_id is not the user's id; the bot answered in the dialog.
        assert user.chat_id != user.user_id
        assert greeting.recipient == {
            "chat_id": user.chat_id,
            "chat_type": "dialog",
            "user_id": 1001,
        }

        await user.send_text("a < b & c")
        echo = user.last_message
        assert echo.text == "Эхо: a < b & c"
        assert echo.markup == [{"type": "strong", "from": 0, "length": 4}]

        answer = await user.press("Записаться")
        assert answer is not None and answer.notification == "Записано"
        assert greeting.text == "Вы записаны на 10:00"  # edited in place...
        assert greeting.buttons[0] == "Записаться"  # ...keeping its keyboard
        assert user.notifications == ["Записано"]

        await user.press("📱 Поделиться номером")
        assert user.last_message.text == "Телефон 79990000001"
        await user.send_contact("+7 900 111-22-33", "Кто-то другой")
        assert user.last_message.text == "Это не ваш номер"

        assert await user.press("Сайт") is None
        assert user.opened_links == ["https://example.org"]

        await user.send_text("/file")
        report = user.last_message
        assert report.text == "Ваш отчёт"
        [file] = report.media
        assert file["type"] == "file" and file["filename"] == "report.txt"
        assert user.download(file) == REPORT
        assert [a.action for a in user.chat_actions] == ["sending_file"]
    # Every request carried the token in the Authorization header, none in the query.
    assert world.stats.token_in_header > 0 and world.stats.token_in_query == 0
    assert world.stats.calls["POST /uploads"] == 1


async def test_the_bot_downloads_what_a_person_sends(server: MaxEmulatorServer) -> None:
    world, bot = server.world, emulator_bot(server)
    dp = Dispatcher()
    received: list[bytes] = []

    @dp.message_created()
    async def on_file(event: MessageCreated) -> None:
        assert event.message.body is not None and event.message.body.attachments
        payload = event.message.body.attachments[0].payload
        assert isinstance(payload, OtherAttachmentPayload)  # a file: url + token
        received.append(await bot.download_bytes(payload.url))

    async with polling(dp, bot, server):
        await world.user(1005, "Ира").send_file(REPORT, "analysis.txt")
    assert received == [REPORT]


async def test_updates_arrive_by_webhook_with_the_secret(server: MaxEmulatorServer) -> None:
    world, bot = server.world, emulator_bot(server)
    dp = tiny_bot()
    async with webhook(dp, bot, secret="s3cret-hook") as url:
        assert world.subscription is not None and world.subscription.secret == "s3cret-hook"
        subscriptions = await bot.get_subscriptions()
        assert [s.url for s in subscriptions.subscriptions] == [url]
        user = world.user(1002, "Борис", phone="+79990000002")
        await user.start()
        await user.send_text("привет")
        assert [m.text for m in user.messages] == ["Здравствуйте!", "Эхо: привет"]
        assert await user.press("Записаться") is not None
        # maxapi's webhook answers 403 without the right X-Max-Bot-Api-Secret: none failed.
        assert world.subscription.failures == 0 and world.subscription.delivered == 3
        # While subscribed, long polling gets nothing.
        assert (await bot.get_updates(timeout=0))["updates"] == []
    assert world.subscription is None  # the harness unsubscribed


async def test_a_wrong_token_is_refused(server: MaxEmulatorServer) -> None:
    bot = emulator_bot(server, token="not-the-token")
    with pytest.raises(InvalidToken):
        await bot.get_me()
    await bot.close_session()
    status, body = await raw_call(server, "GET", "/me")
    assert (status, body["code"]) == (401, "verify.token")
    status, body = await raw_call(server, "GET", f"/me?access_token={server.token}")
    assert status == 200 and body["is_bot"] is True


async def test_text_over_4000_characters_is_refused(server: MaxEmulatorServer) -> None:
    world = server.world
    user = world.user(1003, "Вера")
    world.dialog_of_user(1003).started = True
    path = f"/messages?user_id={user.user_id}"
    status, body = await raw_call(
        server, "POST", path, token=server.token, json={"text": "я" * 4001}
    )
    assert (status, body["code"]) == (400, "proto.payload")
    status, _ = await raw_call(server, "POST", path, token=server.token, json={"text": "я" * 4000})
    assert status == 200 and user.last_message.text == "я" * 4000
    # maxapi itself refuses 4000 and more before sending: a renderer must cut at 3999.
    with pytest.raises(ValueError, match="4000"):
        await emulator_bot(server).send_message(user_id=user.user_id, text="я" * 4000)


async def test_flooding_one_chat_gets_429_until_a_second_passes(
    server: MaxEmulatorServer, clock: FrozenClock
) -> None:
    world, bot = server.world, emulator_bot(server)
    world.limiter.configure(MaxRateLimits(enabled=True, per_chat_per_second=2.0, per_chat_burst=2))
    user = world.user(1004, "Глеб")
    other = world.user(1006, "Дина")
    for dialog in (user.dialog, other.dialog):
        dialog.started = True
    await bot.send_message(chat_id=user.chat_id, text="1")
    await bot.send_message(chat_id=user.chat_id, text="2")
    with pytest.raises(MaxApiError) as refused:
        await bot.send_message(chat_id=user.chat_id, text="3")
    assert answered(refused.value) == (429, "too.many.requests")
    await bot.send_message(chat_id=other.chat_id, text="another chat is not limited")
    clock.advance(seconds=1)
    await bot.send_message(chat_id=user.chat_id, text="3")
    assert [m.text for m in user.messages] == ["1", "2", "3"]
    await bot.close_session()


async def test_unknown_callback_gone_and_stale_messages(
    server: MaxEmulatorServer, clock: FrozenClock
) -> None:
    world, bot = server.world, emulator_bot(server)
    user = world.user(1007, "Егор")
    user.dialog.started = True
    with pytest.raises(MaxApiError) as unknown:
        await bot.send_callback(callback_id="no-such-callback", notification="?")
    assert answered(unknown.value) == (404, "not.found")

    plain = await bot.send_message(chat_id=user.chat_id, text="без кнопок")
    yes = keyboard(CallbackButton(text="Да", payload="yes"))
    with_buttons = await bot.send_message(chat_id=user.chat_id, text="с кнопкой", attachments=yes)
    assert plain is not None and plain.message.body is not None
    assert with_buttons is not None and with_buttons.message.body is not None
    clock.advance(days=8)
    with pytest.raises(MaxApiError) as stale:
        await bot.edit_message(plain.message.body.mid, text="поздно")
    assert stale.value.code == 400
    # A message with an inline keyboard stays editable in a dialog however old it is.
    assert (await bot.edit_message(with_buttons.message.body.mid, text="ещё можно")) is not None
    assert user.last_message.text == "ещё можно"

    await bot.delete_message(plain.message.body.mid)
    with pytest.raises(MaxApiError) as gone:
        await bot.edit_message(plain.message.body.mid, text="нет его")
    assert gone.value.code == 404

    too_long = keyboard(CallbackButton(text="X", payload="p" * 1025))
    with pytest.raises(MaxApiError) as payload:
        await bot.send_message(chat_id=user.chat_id, text="x", attachments=too_long)
    assert payload.value.code == 400 and "payload" in str(payload.value.raw)
    await bot.close_session()


async def test_a_stopped_dialog_refuses_the_bot(server: MaxEmulatorServer) -> None:
    world, bot = server.world, emulator_bot(server)
    async with polling(tiny_bot(), bot, server):
        user = world.user(1008, "Жанна")
        await user.start()
        await user.stop()
        with pytest.raises(MaxApiError) as denied:
            await bot.send_message(chat_id=user.chat_id, text="вы тут?")
        assert answered(denied.value) == (403, "chat.denied")
