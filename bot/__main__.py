"""`python -m bot`: run, worker, migrate, sandbox tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.settings import Settings, SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="EMK bot: a Telegram front end for the electronic medical record.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the bot (long polling, or webhook mode when WEBHOOK_URL is set)",
        description="Run the bot. Long polling by default; webhook mode when WEBHOOK_URL is set.",
    )
    worker = commands.add_parser(
        "worker",
        help="run background jobs (notifications, reminders, slot watches)",
        description="Run background jobs. Start as many worker processes as you like.",
    )
    worker.add_argument("--once", action="store_true", help="check dependencies and exit")
    worker.add_argument(
        "--jobs",
        default="deliver,feed,reminders,watches",
        help="comma-separated jobs to run: deliver, feed, reminders, watches (default: all)",
    )
    commands.add_parser(
        "migrate",
        help="apply database migrations (alembic upgrade head)",
        description="Bring the bot's database schema up to date (alembic upgrade head).",
    )
    sandbox = commands.add_parser(
        "sandbox",
        help="the embedded sandbox backend: personas, SMS outbox, clinic-side events, serve",
        description="Tools for the embedded sandbox records backend (synthetic data).",
    )
    tools = sandbox.add_subparsers(dest="tool", required=True, metavar="TOOL")
    tools.add_parser("personas", help="print ready-made demo personas (policy, birth date, family)")
    sms = tools.add_parser("sms", help="print the sandbox SMS outbox (codes sent to owners)")
    sms.add_argument("--phone", help="only messages to this phone")
    sms.add_argument("--last", type=int, default=10, help="how many messages (default 10)")
    publish = tools.add_parser("publish-result", help="a clinic publishes a new lab result")
    publish.add_argument("--policy", required=True, help="the patient's 16-digit policy number")
    publish.add_argument("--panel", default="cbc", help="lab panel code (default cbc)")
    publish.add_argument("--abnormal", action="store_true", help="with out-of-range values")
    visits = tools.add_parser("appointments", help="a patient's visits with their ids")
    visits.add_argument("--policy", required=True, help="the patient's 16-digit policy number")
    cancel = tools.add_parser("clinic-cancel", help="a clinic cancels an appointment")
    cancel.add_argument("--appointment", required=True, help="the appointment id")
    move = tools.add_parser("clinic-move", help="a clinic moves an appointment to another slot")
    move.add_argument("--appointment", required=True, help="the appointment id")
    move.add_argument("--slot", help="the new slot id (default: the doctor's next free one)")
    free = tools.add_parser("free-slot", help="a booked slot becomes free (someone cancelled)")
    free.add_argument("--slot", help="the slot id")
    free.add_argument("--doctor", help="or: free the doctor's next taken slot")
    serve = tools.add_parser("serve", help="serve the sandbox as the Records API over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    commands.add_parser(
        "demo",
        help="try the bot offline: emulated Telegram + sandbox + a terminal chat",
        description="Start the offline Telegram emulator, the sandbox and the bot, and chat "
        "with the bot in this terminal. Needs no token and no network.",
    )
    return parser


def _migrate(settings: Settings) -> None:
    from bot.db.migrate import upgrade

    upgrade(settings.database.database_url)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2

    from bot.logs import setup_logging

    setup_logging(settings.app.log_level)
    if args.command == "migrate":
        _migrate(settings)
        return 0
    channel = settings.max.channel
    if args.command in ("run", "worker"):
        # Both talk to the messengers; the worker too (notifications), so it says so the same way.
        if channel.telegram and settings.telegram.bot_token is None:
            print(
                "configuration error: BOT_TOKEN is not set (get one from @BotFather, "
                "or try `make demo`, which needs none)",
                file=sys.stderr,
            )
            return 2
        if channel.max and settings.max.max_token is None:
            print(
                f"configuration error: MAX_TOKEN is not set (CHANNEL={channel.value}; "
                "get one on MAX's platform for partners, or try `make demo CHANNEL=max`)",
                file=sys.stderr,
            )
            return 2
    if args.command == "run":
        from bot import runtime

        if settings.database.is_sqlite:
            _migrate(settings)  # the embedded default has no separate migrate step
        try:
            asyncio.run(runtime.run_bot(settings))
        except SettingsError as exc:  # a value only Telegram can judge, e.g. a refused token
            print(exc, file=sys.stderr)
            return 2
        return 0
    if args.command == "worker":
        from bot import runtime

        if settings.database.is_sqlite:
            _migrate(settings)
        from bot.notify_worker import Job

        try:
            jobs = {Job(name.strip()) for name in args.jobs.split(",") if name.strip()}
        except ValueError:
            print(f"unknown job in --jobs: {args.jobs}", file=sys.stderr)
            return 2
        asyncio.run(runtime.run_worker(settings, once=args.once, jobs=jobs))
        return 0
    if args.command == "sandbox":
        from bot import sandbox_cli

        return asyncio.run(sandbox_cli.run(args, settings))
    if args.command == "demo":
        from bot import demo

        return asyncio.run(demo.run_demo(settings))
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
