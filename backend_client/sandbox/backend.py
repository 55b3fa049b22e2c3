"""``SandboxBackend``: the whole records backend in-process, in its own SQLite file."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from backend_client.errors import BackendUnavailable
from backend_client.protocol import RecordsBackend
from backend_client.sandbox import schema as s
from backend_client.sandbox.access import AccessMixin
from backend_client.sandbox.clock import Clock
from backend_client.sandbox.core import install_sqlite_pragmas, load_catalog
from backend_client.sandbox.events import EventsMixin
from backend_client.sandbox.records import RecordsMixin
from backend_client.sandbox.seed import write_seed
from backend_client.sandbox.simulation import SimulationMixin
from backend_client.sandbox.sms import OutboxSmsGateway, SmsGateway

# aiosqlite logs every statement with its parameters at DEBUG: policy numbers, SMS texts with
# codes. Keep it quiet unless someone configured it on purpose.
_aiosqlite_log = logging.getLogger("aiosqlite")
if _aiosqlite_log.level == logging.NOTSET:
    _aiosqlite_log.setLevel(logging.INFO)


class SandboxBackend(AccessMixin, RecordsMixin, EventsMixin, SimulationMixin):
    """Implements ``RecordsBackend``; open with ``await SandboxBackend.open(path, clock=clock)``."""

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        clock: Clock,
        seed: int = 42,
        sms: SmsGateway | None = None,
        one_visit_per_specialty: bool = False,
    ) -> SandboxBackend:
        """Open (and on first use create and seed) the sandbox database at ``path``.

        ``one_visit_per_specialty``: refuse a second active visit of one specialty with
        ``AlreadyBooked``, as EMIAS does (off by default: older tests book freely)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        install_sqlite_pragmas(engine)
        async with engine.begin() as conn:
            exists = (
                await conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='sandbox_meta'"
                )
            ).scalar()
            seeded = None
            if exists:
                seeded = (
                    await conn.execute(select(s.meta.c.value).where(s.meta.c.key == "seed"))
                ).scalar()
            if seeded is None:  # a new file (schema and seed commit together or not at all)
                await conn.run_sync(s.metadata.create_all)
                await write_seed(conn, seed, clock())
            rows = (await conn.execute(select(s.meta.c.key, s.meta.c.value))).all()
            meta = {r.key: r.value for r in rows}
            catalog = await load_catalog(conn)
        backend = cls(
            engine,
            clock,
            int(meta["seed"]),
            bytes.fromhex(meta["code_secret"]),
            sms or OutboxSmsGateway(),
            catalog,
        )
        backend.one_visit_per_specialty = one_visit_per_specialty
        backend._slots_through = date.fromisoformat(meta["slots_through"])
        await backend.ensure_slots()
        return backend

    async def health(self) -> None:
        async with self.tx() as conn:
            ok = (await conn.execute(select(s.meta.c.value).limit(1))).scalar()
        if ok is None:
            raise BackendUnavailable("sandbox is empty")

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._engine.dispose()


def _conforms(backend: SandboxBackend) -> RecordsBackend:
    return backend  # mypy checks the sandbox against the protocol here
