"""`python -m bot sandbox ...`: developer tools over the embedded sandbox backend."""

from __future__ import annotations

import argparse
import sys

from backend_client.sandbox import admin
from bot.clock import SystemClock
from bot.settings import Settings


async def run(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.backend.sandbox_path
    seed = settings.backend.sandbox_seed
    tool = args.tool
    clock = SystemClock()  # a command line tool is its own composition root
    if tool == "serve":
        from backend_client.records_api.serve import serve_sandbox

        token = settings.backend.backend_token
        if token is None:
            print(
                "configuration error: BACKEND_TOKEN is not set (the service credential)",
                file=sys.stderr,
            )
            return 2
        await serve_sandbox(
            args.host,
            args.port,
            sandbox_path=path,
            seed=seed,
            service_token=token.get_secret_value(),
            clock=clock,
        )
        return 0
    if tool == "personas":
        text = await admin.personas_text(path, seed=seed, clock=clock)
    elif tool == "sms":
        text = await admin.sms_text(path, phone=args.phone, limit=args.last, seed=seed, clock=clock)
    elif tool == "publish-result":
        text = await admin.publish_result_text(
            path,
            policy=args.policy,
            panel=args.panel,
            abnormal=args.abnormal,
            seed=seed,
            clock=clock,
        )
    elif tool == "appointments":
        text = await admin.appointments_text(path, policy=args.policy, seed=seed, clock=clock)
    elif tool == "clinic-cancel":
        text = await admin.clinic_cancel_text(path, args.appointment, seed=seed, clock=clock)
    elif tool == "clinic-move":
        text = await admin.clinic_move_text(
            path, args.appointment, args.slot, seed=seed, clock=clock
        )
    elif tool == "free-slot":
        text = await admin.free_slot_text(
            path, slot_id=args.slot, doctor_id=args.doctor, seed=seed, clock=clock
        )
    else:
        raise AssertionError(tool)
    print(text)
    return 0
