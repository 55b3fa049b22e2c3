"""Pushing updates to the bot's webhook, as Telegram does once `setWebhook` is called.

One update at a time, in order; a non-2xx answer or a network error is recorded for
getWebhookInfo and retried. A method in the webhook's answer (aiogram's "reply into
webhook") is executed as if the bot had called it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from bot.emulator.errors import ApiError
from bot.emulator.methods import METHODS
from bot.emulator.params import Params, Upload, read_multipart
from bot.emulator.world import EmulatorWorld

_AUTH_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookPusher:
    def __init__(self, world: EmulatorWorld, *, retry_delay: float = 0.5) -> None:
        self.world = world
        self.retry_delay = retry_delay

    def _has_work(self) -> bool:
        return self.world.closed or bool(self.world.webhook.url and self.world.updates)

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    await self.world.wait_for(self._has_work, timeout=3600, what="work")
                except AssertionError:
                    continue  # an idle hour; keep waiting
                if self.world.closed:
                    return
                if not await self._push_one(session):
                    await asyncio.sleep(self.retry_delay)

    async def _push_one(self, session: aiohttp.ClientSession) -> bool:
        webhook, update = self.world.webhook, self.world.updates[0]
        headers = {_AUTH_HEADER: webhook.secret_token} if webhook.secret_token else {}
        try:
            async with session.post(
                webhook.url,
                json=update.to_api(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                if not 200 <= response.status < 300:
                    self.world.webhook_failed(
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    return False
                self.world.webhook_delivered(update.update_id)
                await self._run_answer(response)
                return True
        except (aiohttp.ClientError, TimeoutError) as error:
            self.world.webhook_failed(f"Connection failed: {type(error).__name__}")
            return False

    async def _run_answer(self, response: aiohttp.ClientResponse) -> None:
        values: dict[str, Any] = {}
        uploads: dict[str, Upload] = {}
        if response.content_type.startswith("multipart/"):
            await read_multipart(
                aiohttp.MultipartReader(response.headers, response.content), values, uploads
            )
        else:
            try:
                body = json.loads(await response.text() or "{}")
            except ValueError:
                return
            if isinstance(body, dict):
                values = body
        name = values.pop("method", None)
        handler = METHODS.get(str(name).lower()) if name else None
        if handler is None:
            return
        self.world.request_started()
        try:
            await handler(self.world, Params(values, uploads))
        except ApiError:
            pass  # Telegram gives a webhook answer no way to report errors
        finally:
            self.world.request_finished()
