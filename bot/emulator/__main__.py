"""`python -m bot.emulator --port 8081 [--chat]`: run the emulator, optionally chatting in it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from bot.emulator.rate_limit import RateLimits
from bot.emulator.server import EmulatorServer
from bot.emulator.terminal import run_terminal_chat
from bot.emulator.world import EmulatorWorld


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", help="accept only this bot token (default: the first seen)")
    parser.add_argument("--rate-limits", action="store_true", help="enforce Telegram flood limits")
    parser.add_argument("--chat", action="store_true", help="chat with the bot in this terminal")
    parser.add_argument("--user-id", type=int, default=1001)
    parser.add_argument("--first-name", default="Анна")
    parser.add_argument("--language", default="ru")
    parser.add_argument("--phone", default="+79990000001")
    parser.add_argument("--files-dir", default="var/emulator-files")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    world = EmulatorWorld(bot_token=args.token, rate_limits=RateLimits(enabled=args.rate_limits))
    async with EmulatorServer(world, host=args.host, port=args.port) as server:
        print(f"Telegram emulator listening on {server.base_url}", file=sys.stderr)
        if not args.chat:
            await asyncio.Event().wait()  # until Ctrl+C
            return
        user = world.user(
            args.user_id, args.first_name, language_code=args.language, phone=args.phone
        )
        await run_terminal_chat(world, user, files_dir=args.files_dir, phone=args.phone)


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_arguments(argv)))


if __name__ == "__main__":
    main()
