"""The terminal chat shows numbered buttons and presses them by number."""

from __future__ import annotations

import io
from pathlib import Path

from aiogram import Bot

from bot.emulator import EmulatorWorld
from bot.emulator.harness import polling
from bot.emulator.terminal import readable_text, run_terminal_chat
from tests.emulator.echo_bot import create_echo_dispatcher


async def test_scripted_chat(world: EmulatorWorld, bot: Bot, tmp_path: Path) -> None:
    user = world.user(telegram_id=1001, first_name="Анна", phone="+79990000001")
    output = io.StringIO()

    async def sms_outbox() -> str:
        return "SMS to +7999…01: code 1234"

    async with polling(create_echo_dispatcher(), bot, world):
        await run_terminal_chat(
            world,
            user,
            files_dir=tmp_path,
            phone="+79990000001",
            extra_commands={"/sms": sms_outbox},
            input_lines=["/start", "2", "/phone", "1", "/sms", "7", "привет", "/quit", "ignored"],
            output=output,
        )
    text = output.getvalue()
    assert "bot (2): Здравствуйте! Выберите действие:" in text
    assert "[1] Запись к врачу  [2] Мои записи" in text
    assert "[popup] Выбрано 2" in text
    assert "bot (edited): Вы выбрали пункт 2" in text
    assert "keyboard: [1] Поделиться номером" in text
    assert "bot (6): Номер получен\n     (keyboard hidden)" in text
    assert "SMS to +7999…01: code 1234" in text
    assert "(no button 7; there are 0)" in text
    assert "привет" in text and "ignored" not in text
    assert user.sent[-1].text == "привет"


async def test_files_are_saved_and_links_shown(
    world: EmulatorWorld, bot: Bot, tmp_path: Path
) -> None:
    from aiogram.types import BufferedInputFile

    user = world.user(telegram_id=1001)
    await user.send_text("hi", settle=False)
    output = io.StringIO()

    async def lines():
        await bot.send_document(user.id, BufferedInputFile(b"%PDF-1.4 x", "Выписка.pdf"))
        yield "/quit"

    await run_terminal_chat(
        world, user, files_dir=tmp_path, phone=None, input_lines=lines(), output=output
    )
    saved = tmp_path / "2_Выписка.pdf"
    assert saved.read_bytes() == b"%PDF-1.4 x"
    assert f"[document] {saved}" in output.getvalue()


def test_readable_text_shows_link_targets() -> None:
    text = "Откройте 📄 выписку"
    entities = [{"type": "text_link", "offset": 9, "length": 10, "url": "https://x.test/a"}]
    assert readable_text(text, entities) == "Откройте 📄 выписку (https://x.test/a)"
