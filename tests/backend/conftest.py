"""Contract-test fixtures: every test gets a fresh backend seeded from one template.

``BACKEND_FACTORIES`` lists the implementations the contract suite runs against. Each factory
is an async context manager ``(db_path, clock) -> Harness``:

* ``backend`` — the ``RecordsBackend`` under test (what the bot would hold);
* ``sandbox`` — the control plane behind it (SMS outbox, clinic simulation, personas);
* ``clock`` — the ``ManualClock`` both see, so tests can move time.

To run the suite through the HTTP adapter as well, add a factory that opens the sandbox, serves
it with ``running_records_api`` and yields ``Harness(HttpRecordsBackend(url, token), sandbox,
clock)`` — see ``http_over_sandbox`` below.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend_client.models import Grant, Relation, Requester, Scope
from backend_client.protocol import RecordsBackend
from backend_client.sandbox import ManualClock, Persona, SandboxBackend
from backend_client.sandbox.testing import FIXED_NOW, code_from_sms, copy_template
from tests.sandbox_fixtures import SandboxTemplates


@dataclass
class Harness:
    backend: RecordsBackend
    sandbox: SandboxBackend
    clock: ManualClock

    async def persona(self, key: str) -> Persona:
        return next(p for p in await personas(self.sandbox) if p.key == key)

    async def last_code(self, phone: str) -> str:
        messages = await self.sandbox.sms_outbox(phone)
        return code_from_sms(next(m.text for m in messages if "Код" in m.text))

    async def link_self(self, key: str, requester: Requester) -> Grant:
        p = await self.persona(key)
        ch = await self.backend.request_access(
            p.policy, p.birth_date, requester, Relation.SELF, Scope.RECORDS
        )
        return await self.backend.confirm_access(
            ch.challenge_id, await self.last_code(p.phone), requester
        )

    async def link_relative(
        self,
        key: str,
        requester: Requester,
        scope: Scope = Scope.RECORDS,
        expires_at: object = None,
    ) -> Grant:
        p = await self.persona(key)
        ch = await self.backend.request_access(
            p.policy,
            p.birth_date,
            requester,
            Relation.RELATIVE,
            scope,
            expires_at,  # type: ignore[arg-type]
        )
        return await self.backend.confirm_access(
            ch.challenge_id, await self.last_code(p.phone), requester
        )


_PERSONAS: list[Persona] = []


async def personas(sandbox: SandboxBackend) -> list[Persona]:
    """Personas are the same in every copy of the template: read them once."""
    if not _PERSONAS:
        _PERSONAS.extend(await sandbox.personas())
    return _PERSONAS


Factory = Callable[[Path, ManualClock], AbstractAsyncContextManager[Harness]]


@asynccontextmanager
async def sandbox_in_process(path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    sandbox = await SandboxBackend.open(path, clock=clock)
    try:
        yield Harness(sandbox, sandbox, clock)
    finally:
        await sandbox.aclose()


@asynccontextmanager
async def http_over_sandbox(path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """The same sandbox behind the Records API, reached through ``HttpRecordsBackend``."""
    from backend_client.http import HttpRecordsBackend
    from backend_client.records_api import running_records_api

    token = "contract-test-token"
    sandbox = await SandboxBackend.open(path, clock=clock)
    try:
        async with running_records_api(sandbox, service_token=token) as url:
            client = HttpRecordsBackend(url, token, retries=0)
            try:
                yield Harness(client, sandbox, clock)
            finally:
                await client.aclose()
    finally:
        await sandbox.aclose()


BACKEND_FACTORIES: list[Factory] = [sandbox_in_process, http_over_sandbox]
if os.environ.get("CONTRACT_BACKENDS"):  # e.g. CONTRACT_BACKENDS=sandbox_in_process
    _wanted = set(os.environ["CONTRACT_BACKENDS"].split(","))
    BACKEND_FACTORIES = [f for f in BACKEND_FACTORIES if f.__name__ in _wanted]


@pytest.fixture(scope="session")
def sandbox_template(sandbox_templates: SandboxTemplates) -> Path:
    """Seed 42 at FIXED_NOW, once per test session; copied for every test."""
    return sandbox_templates(seed=42, now=FIXED_NOW)


@pytest.fixture(params=BACKEND_FACTORIES, ids=lambda f: f.__name__)
async def harness(
    request: pytest.FixtureRequest, sandbox_template: Path, tmp_path: Path
) -> AsyncIterator[Harness]:
    clock = ManualClock(FIXED_NOW)
    path = copy_template(sandbox_template, tmp_path / "sandbox.sqlite3")
    async with request.param(path, clock) as h:
        yield h


@pytest.fixture
def backend(harness: Harness) -> RecordsBackend:
    return harness.backend


def requester(n: int | str, name: str = "Иван П.") -> Requester:
    return Requester(id=f"tg-test-{n}", display_name=name)
