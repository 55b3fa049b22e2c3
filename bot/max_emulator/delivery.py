"""Getting updates to the bot: `GET /updates` long polling, or a webhook subscription.

With a subscription MAX POSTs each update (one JSON `Update`) to the URL, with the
`X-Max-Bot-Api-Secret` header when a secret was given, and counts only a 200 as delivered;
long polling then gets nothing. MAX retries after 60 s and more; here `retry_delay`.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp

from bot.max_emulator.errors import bad_request
from bot.max_emulator.methods import ApiRequest
from bot.max_emulator.models import Json, Subscription
from bot.max_emulator.updates import PendingUpdate
from bot.max_emulator.world import MaxWorld

SECRET_HEADER = "X-Max-Bot-Api-Secret"  # noqa: S105 - a header name
_SECRET = re.compile(r"^[a-zA-Z0-9_-]{5,256}$")


def _bounded(request: ApiRequest, name: str, default: int, low: int, high: int) -> int:
    value = request.int_param(name)
    if value is None:
        return default
    if not low <= value <= high:
        raise bad_request(f"Parameter '{name}' must be {low} to {high}")
    return value


async def get_updates(world: MaxWorld, request: ApiRequest) -> Json:
    limit = _bounded(request, "limit", 100, 1, 1000)
    timeout = _bounded(request, "timeout", 30, 0, 90)
    types = {t for t in request.query.get("types", "").split(",") if t} or None
    return await world.updates.poll(
        marker=request.int_param("marker"),
        timeout=timeout,
        limit=limit,
        types=types,
        webhook_active=lambda: world.subscription is not None,
        connected=request.connected,
    )


async def get_subscriptions(world: MaxWorld, request: ApiRequest) -> Json:
    current = world.subscription
    return {"subscriptions": [current.to_api()] if current else []}


async def subscribe(world: MaxWorld, request: ApiRequest) -> Json:
    body = request.json_body()
    url, secret, types = body.get("url"), body.get("secret"), body.get("update_types")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise bad_request("Field 'url' must be an https:// URL")
    if url.startswith("http://") and not world.allow_http_webhooks:
        raise bad_request("Webhook URL must use HTTPS")
    if secret is not None and (not isinstance(secret, str) or not _SECRET.match(secret)):
        raise bad_request("Field 'secret' must be 5-256 characters of A-Z, a-z, 0-9, _ and -")
    if types is not None and not (
        isinstance(types, list) and all(isinstance(t, str) for t in types)
    ):
        raise bad_request("Field 'update_types' must be an array of strings")
    # One subscription per bot here: subscribing again (any URL) replaces it.
    world.subscription = Subscription(url, world.now_ms(), secret, types, body.get("version"))
    world.signal.notify()
    return {"success": True}


async def unsubscribe(world: MaxWorld, request: ApiRequest) -> Json:
    url = request.str_param("url")
    if world.subscription is not None and world.subscription.url == url:
        world.subscription = None
        world.signal.notify()
    return {"success": True}


class WebhookPusher:
    """Delivers pending updates to the subscription, one at a time and in order."""

    def __init__(self, world: MaxWorld, *, retry_delay: float = 0.5) -> None:
        self.world = world
        self.retry_delay = retry_delay

    def _next(self) -> tuple[Subscription, PendingUpdate] | None:
        subscription = self.world.subscription
        if subscription is None:
            return None
        for update in list(self.world.updates.pending):
            if subscription.wants(update.update_type):
                return subscription, update
            self.world.updates.mark_handled(update.update_id)  # not subscribed to it
        return None

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while not self.world.updates.closed:
                work = self._next()
                if work is None:
                    await self.world.signal.changed(3600)
                    continue
                if not await self._push(session, *work):
                    await asyncio.sleep(self.retry_delay)

    async def _push(
        self, session: aiohttp.ClientSession, subscription: Subscription, update: PendingUpdate
    ) -> bool:
        headers = {SECRET_HEADER: subscription.secret} if subscription.secret else {}
        try:
            async with session.post(
                subscription.url,
                json=update.payload,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=30),  # MAX waits 30 s for the 200
            ) as response:
                await response.read()
                if response.status != 200:
                    subscription.failures += 1
                    subscription.last_error = f"HTTP {response.status}"
                    return False
        except (aiohttp.ClientError, TimeoutError) as error:
            subscription.failures += 1
            subscription.last_error = type(error).__name__
            return False
        subscription.delivered += 1
        subscription.last_error = None
        self.world.updates.mark_handled(update.update_id)
        return True
