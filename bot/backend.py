"""Which records backend the bot talks to, chosen by settings."""

from __future__ import annotations

from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.settings import BackendKind, Settings


async def open_backend(settings: Settings, clock: Clock) -> RecordsBackend:
    config = settings.backend
    if config.backend is BackendKind.HTTP:
        from backend_client.http import HttpRecordsBackend

        assert config.backend_url is not None and config.backend_token is not None
        return HttpRecordsBackend(
            config.backend_url,
            config.backend_token.get_secret_value(),
            timeout=config.backend_timeout_seconds,
        )
    from backend_client.sandbox import SandboxBackend

    # As EMIAS: one active visit per specialty (a second is refused with `AlreadyBooked`).
    return await SandboxBackend.open(
        config.sandbox_path, seed=config.sandbox_seed, clock=clock, one_visit_per_specialty=True
    )
