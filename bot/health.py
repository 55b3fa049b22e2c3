"""`/healthz` (the process answers) and `/readyz` (it can do its work), honest under faults.

Every readiness check (database, Redis, backend) runs at the same time as the others, with
its own timeout; a check that has not answered by then is reported as "timeout" and left to
finish (cancelled) in the background, so `/readyz` answers within `CHECK_TIMEOUT_SECONDS`
(well inside 3 s) whatever hangs, even a call that ignores cancellation. A failure is named
by its kind ("timeout", "ConnectionRefusedError"), never by its message. A draining replica
is not ready: load balancers stop sending it work while it finishes what it has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.app import App

CHECK_TIMEOUT_SECONDS = 2.0

Probe = Callable[[], Awaitable[Any]]

# Checks given up on: referenced until they end, so they are neither collected mid-flight
# nor reported as "exception never retrieved".
_abandoned: set[asyncio.Future[Any]] = set()


def _forget(task: asyncio.Future[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()


async def _bounded(probe: Probe, seconds: float) -> str:
    task = asyncio.ensure_future(probe())
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        _abandoned.add(task)
        task.add_done_callback(_forget)
        return "timeout"
    error = task.exception() if not task.cancelled() else asyncio.CancelledError()
    return "ok" if error is None else type(error).__name__


def _database_probe(app: App) -> Probe:
    async def probe() -> None:
        async with app.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return probe


def readiness_probes(app: App) -> dict[str, Probe]:
    probes: dict[str, Probe] = {"database": _database_probe(app)}
    if app.redis is not None:
        probes["redis"] = app.redis.ping
    probes["backend"] = app.backend.health
    return probes


async def readiness(app: App, *, seconds: float = CHECK_TIMEOUT_SECONDS) -> dict[str, str]:
    """Each dependency's state: "ok", "timeout" or the kind of failure (never its message)."""
    probes = readiness_probes(app)
    states = await asyncio.gather(*(_bounded(probe, seconds) for probe in probes.values()))
    return dict(zip(probes, states, strict=True))


def add_health_routes(
    web_app: web.Application, app: App, *, draining: Callable[[], bool] = lambda: False
) -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness(app)
        ready = all(value == "ok" for value in checks.values())
        status = "draining" if draining() else "ok" if ready else "unavailable"
        return web.json_response(
            {"status": status, "checks": checks}, status=200 if status == "ok" else 503
        )

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
