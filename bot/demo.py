"""`make demo`: the real bot, offline, in a terminal chat (Telegram emulator + sandbox), with
the notification worker running beside it so results, reminders and clinic changes arrive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox import admin as sandbox_admin
from bot.app import App
from bot.clock import Clock, SystemClock
from bot.emulator import EmulatorWorld
from bot.emulator.clock import Clock as EmulatorClock
from bot.emulator.terminal import LocalCommand, run_terminal_chat
from bot.logs import setup_logging
from bot.notify_worker import Job, run_notification_jobs
from bot.offline import offline_stack
from bot.settings import Settings
from bot.settings_max import Channel

DEMO_USER_ID = 700_001


def demo_settings(settings: Settings) -> Settings:
    """Keep the demo's data apart from a real run's under ./var/demo."""
    var = Path(settings.app.var_dir) / "demo"
    var.mkdir(parents=True, exist_ok=True)
    database = settings.database.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{var / 'bot.sqlite3'}"}
    )
    backend = settings.backend.model_copy(update={"sandbox_path": var / "sandbox.sqlite3"})
    return settings.model_copy(update={"database": database, "backend": backend})


async def run_demo(settings: Settings) -> int:
    settings = demo_settings(settings)
    var = Path(settings.app.var_dir) / "demo"
    # The terminal is the chat; the bot's log goes to a file beside the demo's data.
    log_file = (var / "bot.log").open("a", encoding="utf-8")
    setup_logging(settings.app.log_level, stream=log_file)
    print("Preparing the sandbox (synthetic patients, clinics, doctors)…", flush=True)
    clock = SystemClock()  # the demo's one clock: bot, worker, sandbox and emulator read it
    backend = await SandboxBackend.open(
        settings.backend.sandbox_path,
        seed=settings.backend.sandbox_seed,
        clock=clock,
        one_visit_per_specialty=True,  # as EMIAS
    )
    try:
        path, seed = settings.backend.sandbox_path, settings.backend.sandbox_seed
        print(await sandbox_admin.personas_text(path, seed=seed, clock=clock), flush=True)
        personas = await backend.personas()
        # The person at the keyboard plays the first persona: /share sends their phone.
        phone = personas[0].phone
        commands = _sandbox_commands(backend, path, seed, clock, personas[0].policy)
        if settings.max.channel is Channel.MAX:
            await _max_chat(settings, backend, clock, var, phone, commands)
        else:
            await _telegram_chat(settings, backend, clock, var, phone, commands)
    finally:
        await backend.aclose()
        log_file.close()
    print(f"Bye. The bot's log is in {var / 'bot.log'}; files it sent are in {var / 'files'}.")
    return 0


def _sandbox_commands(
    backend: SandboxBackend, path: Path, seed: int, clock: Clock, policy: str
) -> dict[str, LocalCommand]:
    """The clinic's side, typed in the chat: the SMS outbox, personas, a new result, a
    cancellation by the clinic (for the persona at the keyboard)."""

    async def show_sms() -> str:
        return await sandbox_admin.sms_text(path, limit=5, seed=seed, clock=clock)

    async def show_personas() -> str:
        return await sandbox_admin.personas_text(path, seed=seed, clock=clock)

    async def new_result() -> str:
        return await sandbox_admin.publish_result_text(path, policy=policy, seed=seed, clock=clock)

    async def clinic_cancels() -> str:
        visits = await backend.appointments_of(policy)
        upcoming = sorted((v for v in visits if v.is_active), key=lambda v: v.starts_at)
        if not upcoming:
            return "Нет предстоящих визитов: сначала запишитесь к врачу."
        return await sandbox_admin.clinic_cancel_text(
            path, upcoming[0].appointment_id, seed=seed, clock=clock
        )

    return {
        "/sms": show_sms,
        "/personas": show_personas,
        "/result": new_result,
        "/clinic_cancel": clinic_cancels,
    }


@contextlib.asynccontextmanager
async def _worker_beside(app: App) -> AsyncIterator[None]:
    """The notification worker, so results, reminders and clinic changes arrive."""
    stop = asyncio.Event()
    worker = asyncio.create_task(run_notification_jobs(app, stop, set(Job)))
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def _telegram_chat(
    settings: Settings,
    backend: SandboxBackend,
    clock: Clock,
    var: Path,
    phone: str,
    commands: dict[str, LocalCommand],
) -> None:
    world = EmulatorWorld(clock=EmulatorClock(clock))
    async with offline_stack(settings, backend=backend, world=world, clock=clock) as stack:
        user = stack.world.user(DEMO_USER_ID, "Анна", language_code="ru", phone=phone)
        async with _worker_beside(stack.app):
            await run_terminal_chat(
                stack.world, user, files_dir=var / "files", phone=phone, extra_commands=commands
            )


async def _max_chat(
    settings: Settings,
    backend: SandboxBackend,
    clock: Clock,
    var: Path,
    phone: str,
    commands: dict[str, LocalCommand],
) -> None:
    from bot.max_emulator import MaxWorld
    from bot.max_emulator.terminal import run_max_terminal_chat
    from max_channel.offline import offline_max_stack

    world = MaxWorld(clock=EmulatorClock(clock))
    async with offline_max_stack(settings, backend=backend, world=world, clock=clock) as stack:
        user = stack.world.user(DEMO_USER_ID, "Анна", phone=phone)
        async with _worker_beside(stack.app):
            await run_max_terminal_chat(user, files_dir=var / "files", extra_commands=commands)
