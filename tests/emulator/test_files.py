"""Multipart uploads keep their bytes; getFile and downloads hand them back."""

from __future__ import annotations

import io

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from bot.emulator import EmulatorWorld

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF"


@pytest.fixture
async def user(world: EmulatorWorld):
    user = world.user(telegram_id=1001)
    await user.send_text("hi", settle=False)
    return user


async def test_send_document_keeps_bytes_name_and_type(bot: Bot, user) -> None:
    sent = await bot.send_document(
        user.id,
        BufferedInputFile(PDF, "Выписка.pdf"),
        caption="<b>Выписка</b> за 2026",
        parse_mode="HTML",
        protect_content=True,
    )
    assert sent.document is not None and sent.document.file_name == "Выписка.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert sent.caption == "Выписка за 2026"
    [document] = user.documents
    assert document.data == PDF and document.size == len(PDF)
    assert user.last_message.protect_content
    assert user.last_message.caption_entities[0]["type"] == "bold"


async def test_send_photo_and_reuse_file_id(bot: Bot, user, tiny_png: bytes) -> None:
    first = await bot.send_photo(user.id, BufferedInputFile(tiny_png, "scan.png"))
    assert first.photo is not None and (first.photo[-1].width, first.photo[-1].height) == (1, 1)
    again = await bot.send_photo(user.id, first.photo[-1].file_id)
    assert again.photo is not None and again.photo[-1].file_id == first.photo[-1].file_id
    assert [p.data for p in user.photos] == [tiny_png, tiny_png]


async def test_photo_must_be_an_image_and_file_ids_must_exist(bot: Bot, user) -> None:
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(user.id, BufferedInputFile(PDF, "not-a-photo.png"))
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(user.id, "AAAA-no-such-file")


async def test_get_file_and_download_round_trip(bot: Bot, user) -> None:
    sent = await bot.send_document(user.id, BufferedInputFile(PDF, "a.pdf"))
    assert sent.document is not None
    file = await bot.get_file(sent.document.file_id)
    assert file.file_size == len(PDF) and file.file_path and file.file_path.endswith(".pdf")
    buffer = io.BytesIO()
    await bot.download_file(file.file_path, destination=buffer)
    assert buffer.getvalue() == PDF


async def test_user_uploads_reach_the_bot(world: EmulatorWorld, bot: Bot, user) -> None:
    await user.send_document(b"referral", "направление.txt", caption="вот", settle=False)
    update = (await bot.get_updates(timeout=0))[-1]
    assert update.message is not None and update.message.document is not None
    assert update.message.document.mime_type == "text/plain"
    buffer = io.BytesIO()
    await bot.download(update.message.document, destination=buffer)
    assert buffer.getvalue() == b"referral"
