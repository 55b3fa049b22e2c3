"""The production topology as processes, as compose runs it, with proxies in front of the
services: `migrate`, the Records API (`sandbox serve`), two webhook replicas and two workers,
on a fresh PostgreSQL database and a Redis key prefix of their own.

Each bot process reaches PostgreSQL, Redis and the Records API through its own proxy (a fault
is put on every proxy of a service at once; one proxy per process lets a scenario aim at one
process and see whose traffic it is), and Telegram through its own port of the fake Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from redis.asyncio import Redis

from bot.emulator.world import EmulatorWorld
from faultkit.processes import ManagedProcess, ProcessSet, ReadyCheck
from faultkit.proxy import ProxyGroup, TcpProxy
from faultkit.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
REPLICAS = ("replica-a", "replica-b")
WORKERS = ("worker-1", "worker-2")
BOT_PROCESSES = REPLICAS + WORKERS
BOT_TOKEN = "4242:FAULTS_SUITE_NOT_A_TOKEN"  # the fake Telegram takes any; not token-shaped
# Kept from the caller's environment; everything the bot reads is set here explicitly.
_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


@dataclass(frozen=True)
class Services:
    """Where the real services listen (the suite's proxies point there)."""

    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Services:
        """DATABASE_URL / REDIS_URL (as CI sets them) name the servers; defaults: loopback."""
        pg = urlsplit(environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x"))
        rd = urlsplit(environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        db = rd.path.strip("/")
        return cls(
            pg_host=pg.hostname or "127.0.0.1",
            pg_port=pg.port or 5432,
            pg_user=pg.username or "postgres",
            redis_host=rd.hostname or "127.0.0.1",
            redis_port=rd.port or 6379,
            redis_db=int(db) if db.isdigit() else 0,
        )


@dataclass(frozen=True)
class Tuning:
    """Settings the suite gives the bot processes (everything else is the shipped default)."""

    lease_seconds: float = 10.0  # a dead worker's rows come back after this
    feed_poll_seconds: float = 1.0
    webhook_timeout_s: float = 10.0  # how long the fake Telegram waits for a webhook answer
    redeliver_s: float = 1.0  # Telegram's pause before redelivering


class Topology:
    def __init__(self, run_dir: Path, services: Services, tuning: Tuning) -> None:
        self.run_dir = run_dir
        self.services = services
        self.tuning = tuning
        self.tag = "faults_" + secrets.token_hex(4)
        self.database = self.tag
        self.redis_prefix = self.tag
        self.backend_token = secrets.token_urlsafe(24)
        self.webhook_secret = secrets.token_urlsafe(24).replace("-", "_")
        self.secret_key = secrets.token_hex(32)
        self.sandbox_path = run_dir / "sandbox.sqlite3"
        self.world = EmulatorWorld(allow_http_webhooks=True, quiet_period=0.05)
        self.processes = ProcessSet()
        self.pg = ProxyGroup("postgres")
        self.redis = ProxyGroup("redis")
        self.records = ProxyGroup("records")
        self.proxies: dict[tuple[str, str], TcpProxy] = {}  # (service, process) -> proxy
        self.webhook_ports = {name: _free_port() for name in REPLICAS}
        self.records_port = _free_port()
        self.telegram = FakeTelegram(
            self.world,
            BOT_PROCESSES,
            replicas={
                name: f"http://127.0.0.1:{port}/telegram/webhook"
                for name, port in self.webhook_ports.items()
            },
            secret=self.webhook_secret,
            timeout_s=tuning.webhook_timeout_s,
            redeliver_s=tuning.redeliver_s,
        )
        self._database_created = False

    # ----- environment ------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        env.update(
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
            SANDBOX_PATH=str(self.sandbox_path),
            BACKEND_TOKEN=self.backend_token,
            SECRET_KEY=self.secret_key,
        )
        return env

    def bot_env(self, process: str) -> dict[str, str]:
        s = self.services
        env = self._base_env()
        env.update(
            BOT_TOKEN=BOT_TOKEN,
            TELEGRAM_API_URL=self.telegram.base_url(process),
            DATABASE_URL=(
                f"postgresql://{s.pg_user}@127.0.0.1:{self.proxies['postgres', process].port}"
                f"/{self.database}"
            ),
            REDIS_URL=f"redis://127.0.0.1:{self.proxies['redis', process].port}/{s.redis_db}",
            REDIS_PREFIX=self.redis_prefix,
            BACKEND="http",
            BACKEND_URL=f"http://127.0.0.1:{self.proxies['records', process].port}",
            VAR_DIR=str(self.run_dir / f"var-{process}"),
            LEASE_SECONDS=str(self.tuning.lease_seconds),
            FEED_POLL_SECONDS=str(self.tuning.feed_poll_seconds),
        )
        if process in REPLICAS:
            port = self.webhook_ports[process]
            env.update(
                WEBHOOK_URL=f"http://127.0.0.1:{port}",
                WEBHOOK_SECRET=self.webhook_secret,
                WEBHOOK_HOST="127.0.0.1",
                WEBHOOK_PORT=str(port),
            )
        return env

    def sandbox_env(self) -> dict[str, str]:
        return self._base_env()

    def _python(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot", *args]

    # ----- bring up ---------------------------------------------------------------------

    async def start(self) -> None:
        await self._create_database()
        await self._start_proxies()
        await self.telegram.start()
        records = self.processes.add(
            ManagedProcess(
                "records",
                self._python(
                    "sandbox", "serve", "--host", "127.0.0.1", "--port", str(self.records_port)
                ),
                self.sandbox_env(),
                cwd=self.run_dir,
                log_path=self.run_dir / "records.log",
                ready=self._records_ready,
            )
        )
        # Independent: the sandbox seeds itself while the schema is migrated.
        await asyncio.gather(records.start(ready_timeout=90), self._migrate())
        for name in BOT_PROCESSES:
            self.processes.add(
                ManagedProcess(
                    name,
                    self._python("run" if name in REPLICAS else "worker"),
                    self.bot_env(name),
                    cwd=self.run_dir,
                    log_path=self.run_dir / f"{name}.log",
                    ready=self._replica_ready(name)
                    if name in REPLICAS
                    else self._worker_ready(name),
                )
            )
        await asyncio.gather(*(self.processes[name].start() for name in BOT_PROCESSES))

    async def _create_database(self) -> None:
        connection = await asyncpg.connect(**self._admin_dsn())
        try:
            await connection.execute(f'CREATE DATABASE "{self.database}"')
            self._database_created = True
        finally:
            await connection.close()

    def _admin_dsn(self) -> dict[str, object]:
        s = self.services
        return {"host": s.pg_host, "port": s.pg_port, "user": s.pg_user, "database": "postgres"}

    async def _start_proxies(self) -> None:
        s = self.services
        upstreams = {
            "postgres": (s.pg_host, s.pg_port, self.pg),
            "redis": (s.redis_host, s.redis_port, self.redis),
            "records": ("127.0.0.1", self.records_port, self.records),
        }
        for service, (host, port, group) in upstreams.items():
            for process in BOT_PROCESSES:
                proxy = TcpProxy(f"{service}/{process}", host, port)
                await proxy.start()
                self.proxies[service, process] = proxy
                group.add(proxy)

    async def _migrate(self) -> None:
        s = self.services
        env = self._base_env()
        env["DATABASE_URL"] = f"postgresql://{s.pg_user}@{s.pg_host}:{s.pg_port}/{self.database}"
        log = (self.run_dir / "migrate.log").open("wb")
        try:
            process = await asyncio.create_subprocess_exec(
                *self._python("migrate"), cwd=self.run_dir, env=env, stdout=log, stderr=log
            )
            code = await asyncio.wait_for(process.wait(), 120)
        finally:
            log.close()
        if code != 0:
            raise RuntimeError(f"migrate failed ({code}); see {self.run_dir / 'migrate.log'}")

    async def _records_ready(self) -> bool:
        url = f"http://127.0.0.1:{self.records_port}/v1/health"
        headers = {"Authorization": f"Bearer {self.backend_token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=2)) as answer,
        ):
            return answer.status == 200

    def _replica_ready(self, name: str) -> ReadyCheck:
        async def ready() -> bool:
            url = f"http://127.0.0.1:{self.webhook_ports[name]}/healthz"
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as answer,
            ):
                return answer.status == 200

        return ready

    def _worker_ready(self, name: str) -> ReadyCheck:
        async def ready() -> bool:
            process = self.processes[name]
            marks = process.log_tail(200, grep='"worker.start"')
            return len(marks) >= process.starts

        return ready

    # ----- tear down --------------------------------------------------------------------

    async def stop(self) -> None:
        await self.processes.stop_all()
        await self.telegram.stop()
        for proxy in self.proxies.values():
            await proxy.stop()
        await self._drop_redis_keys()
        await self._drop_database()

    def kill_now(self) -> None:
        self.processes.kill_all_now()

    async def _drop_database(self) -> None:
        if not self._database_created:
            return
        with contextlib.suppress(Exception):
            connection = await asyncpg.connect(**self._admin_dsn())
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                self._database_created = False
            finally:
                await connection.close()

    async def _drop_redis_keys(self) -> None:
        s = self.services
        redis = Redis(host=s.redis_host, port=s.redis_port, db=s.redis_db)
        try:
            with contextlib.suppress(Exception):
                batch: list[bytes] = []
                async for key in redis.scan_iter(match=f"{self.redis_prefix}:*", count=500):
                    batch.append(key)
                    if len(batch) >= 500:
                        await redis.delete(*batch)
                        batch.clear()
                if batch:
                    await redis.delete(*batch)
        finally:
            await redis.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
