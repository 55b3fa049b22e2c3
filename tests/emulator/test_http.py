"""Raw HTTP: Telegram's envelope, JSON and query-string bodies, unknown paths."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.emulator import EmulatorServer, EmulatorWorld


async def call(server: EmulatorServer, method: str, **kwargs) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        url = f"{server.base_url}/bot{server.token}/{method}"
        async with session.post(url, **kwargs) as response:
            return response.status, await response.json()


async def test_envelopes(server: EmulatorServer) -> None:
    status, body = await call(server, "getMe")
    assert (status, body["ok"], body["result"]["username"]) == (200, True, "emk_test_bot")
    assert await call(server, "sendVideoNote") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = await call(server, "sendMessage", json={"chat_id": 5, "text": "x"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_json_body_with_nested_objects(world: EmulatorWorld, server: EmulatorServer) -> None:
    user = world.user(telegram_id=1001)
    await user.send_text("hi", settle=False)
    markup = {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]}
    status, body = await call(
        server, "sendMessage", json={"chat_id": 1001, "text": "ok?", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    assert user.last_message.buttons == ["Да"]


async def test_query_string_and_case_insensitive_method(server: EmulatorServer) -> None:
    status, body = await call(server, "getupdates", params={"timeout": "0", "offset": "-1"})
    assert (status, body) == (200, {"ok": True, "result": []})


async def test_wrong_token_and_stray_paths(server: EmulatorServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.base_url}/botnot-a-token/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with session.get(f"{server.base_url}/favicon.ico") as response:
            assert response.status == 404
