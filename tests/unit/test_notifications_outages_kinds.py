"""What counts as an outage: driver errors name their dependency (PostgreSQL, Redis, backend,
Telegram, network), bugs and bad data do not, and the real asyncpg and redis-py drivers at a
closed port and at a silent one raise errors that are classified as outages."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.methods import SendMessage
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from sqlalchemy import exc as sa_errors
from sqlalchemy import text

from backend_client.errors import BackendUnavailable, InvalidRequest
from bot.db.engine import create_engine
from bot.outages import BACKEND, DATABASE, NETWORK, REDIS, TELEGRAM, outage_kind
from tests.unit.notifications_outage_support import silent_port

# --- what counts as an outage ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (redis_errors.ConnectionError("refused"), REDIS),
        (redis_errors.TimeoutError("Timeout reading from socket"), REDIS),
        (redis_errors.BusyLoadingError("loading"), REDIS),
        (sa_errors.OperationalError("SELECT", {}, OSError()), DATABASE),
        (sa_errors.InterfaceError("SELECT", {}, Exception()), DATABASE),
        (sa_errors.DBAPIError("SELECT", {}, Exception(), True), DATABASE),
        (sa_errors.TimeoutError("pool"), DATABASE),
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), DATABASE),
        (asyncpg.exceptions.AdminShutdownError("shutdown"), DATABASE),
        (asyncpg.exceptions.TooManyConnectionsError("full"), DATABASE),
        (asyncpg.exceptions.InterfaceError("closed"), DATABASE),
        (BackendUnavailable("timeout"), BACKEND),
        (TelegramNetworkError(method=SendMessage(chat_id=1, text="x"), message="x"), TELEGRAM),
        (TelegramServerError(method=SendMessage(chat_id=1, text="x"), message="x"), TELEGRAM),
        (ConnectionRefusedError(), NETWORK),
        (OSError(), NETWORK),
        (TimeoutError(), NETWORK),
    ],
)
def test_driver_errors_are_outages(error: BaseException, kind: str) -> None:
    assert outage_kind(error) == kind


@pytest.mark.parametrize(
    "error",
    [
        sa_errors.IntegrityError("INSERT", {}, Exception()),
        sa_errors.ProgrammingError("SELECT", {}, Exception()),
        redis_errors.ResponseError("ERR bad script"),
        InvalidRequest("slot_id"),
        ValueError(),
        KeyError("x"),
    ],
)
def test_bugs_and_bad_data_are_not_outages(error: BaseException) -> None:
    assert outage_kind(error) is None


async def test_real_drivers_at_a_closed_port_and_a_silent_one_name_their_dependency() -> None:
    """What asyncpg and redis-py really raise (port 1 refuses; the listener never answers)."""
    found: list[str | None] = []
    async with silent_port() as silent:
        for port in (1, silent):
            engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x")

            async def query(engine: Any = engine) -> None:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

            with pytest.raises(Exception) as pg:  # noqa: PT011 - whatever the driver raises
                await asyncio.wait_for(query(), 0.5)
            await engine.dispose()
            redis = Redis.from_url(f"redis://127.0.0.1:{port}/0")
            with pytest.raises(Exception) as rd:  # noqa: PT011
                await asyncio.wait_for(redis.ping(), 0.5)
            await redis.aclose()
            found += [outage_kind(pg.value), outage_kind(rd.value)]
    assert found == [DATABASE, REDIS, DATABASE, REDIS]
