"""Run the Records API: any backend in-process (``running_records_api``, used by the tests) or
the sandbox as a service (``serve_sandbox``, behind ``python -m bot sandbox serve``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from backend_client.protocol import RecordsBackend
from backend_client.records_api.app import create_records_api_app
from backend_client.records_api.logs import log_event
from backend_client.sandbox.clock import MonotonicClock

logger = logging.getLogger(__name__)


@asynccontextmanager
async def running_records_api(
    backend: RecordsBackend,
    *,
    service_token: str,
    host: str = "127.0.0.1",
    port: int = 0,
    monotonic: Callable[[], float] | None = None,
) -> AsyncIterator[str]:
    """Serve ``backend`` while the block runs; yields the base URL (``port=0``: a free port).

    The backend is not closed here: whoever opened it closes it.
    """
    app = create_records_api_app(backend, service_token=service_token, monotonic=monotonic)
    # access_log=None: aiohttp's access log prints URLs with query strings (requester names);
    # the app logs each request by route name instead.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{shown_host}:{bound_port}"
    finally:
        await runner.cleanup()


async def serve_sandbox(
    host: str,
    port: int,
    *,
    sandbox_path: Path | str,
    seed: int,
    service_token: str,
    clock: MonotonicClock,
) -> None:
    """Open the sandbox and serve it until cancelled (Ctrl+C), then close everything."""
    from backend_client.sandbox import SandboxBackend  # the sandbox pulls in SQLAlchemy

    backend = await SandboxBackend.open(
        Path(sandbox_path), seed=seed, clock=clock, one_visit_per_specialty=True
    )
    try:
        async with running_records_api(
            backend, service_token=service_token, host=host, port=port, monotonic=clock.monotonic
        ) as url:
            log_event(logger, "records_api.serving", url=url)
            await asyncio.Event().wait()
    finally:
        await backend.aclose()
