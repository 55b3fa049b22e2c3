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
    commands.add_parser(
        "migrate",
        help="apply database migrations (alembic upgrade head)",
        description="Bring the bot's database schema up to date (alembic upgrade head).",
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
    if args.command == "run":
        if settings.telegram.bot_token is None:
            print(
                "configuration error: BOT_TOKEN is not set (get one from @BotFather, "
                "or try `make demo`, which needs none)",
                file=sys.stderr,
            )
            return 2
        from bot import runtime

        if settings.database.is_sqlite:
            _migrate(settings)  # the embedded default has no separate migrate step
        coroutine = (
            runtime.run_webhook(settings)
            if settings.webhook.webhook_url
            else runtime.run_polling(settings)
        )
        asyncio.run(coroutine)
        return 0
    if args.command == "worker":
        from bot import runtime

        if settings.database.is_sqlite:
            _migrate(settings)
        asyncio.run(runtime.run_worker(settings, once=args.once))
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
