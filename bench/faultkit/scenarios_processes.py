"""The fault suite's process faults: a replica SIGKILLed mid-update, a replica SIGTERMed with
updates in flight, a worker SIGKILLed while it sends notifications."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import Callable

from faultkit.flows import LINKED, MENU_VISITS, book_a_visit, link_up_to_code
from faultkit.suite import CLOCK, Suite, say
from faultkit.telegram import SEND_METHODS
from faultkit.topology import REPLICAS, WORKERS

BOOKING = re.compile(rb"^POST /v1/grants/[^/ ?]+/appointments[ ?]")  # the "book this time" call


async def replica_sigkill(suite: Suite) -> None:
    """A replica dies (SIGKILL) mid-update, once the Records API has done its backend call
    but before the replica read the answer: first the SMS code's confirmation, then a
    booking's. Telegram got no 200 and redelivers to
    the other replica, which must finish the step (the grant exists, the booking's
    idempotency key is found) — the card linked once, the visit booked once."""
    assert suite.linker is not None
    linker, booker = suite.linker, suite.users[0]
    async with suite.scenario("replica-sigkill-mid-update", busy=(booker,)) as window:
        kills: list[str] = []
        armed: list[Callable[[bytes], bool]] = []
        answered_by: dict[str, bool] = {}  # replica -> its armed request has left

        def watch(replica: str) -> tuple[Callable[[bytes], None], Callable[[bytes], None]]:
            def request(data: bytes) -> None:
                if armed and armed[0](data):
                    armed.clear()
                    answered_by[replica] = True

            def answer(_: bytes) -> None:
                # The service did the work; the replica dies before it hears the answer.
                if answered_by.pop(replica, False):
                    suite.topology.processes[replica].send(signal.SIGKILL)
                    kills.append(replica)
                    say(f"  SIGKILL {replica}: its backend call was answered, not yet read")

            return request, answer

        for replica in REPLICAS:
            proxy = suite.topology.proxies["records", replica]
            proxy.on_client_chunk, proxy.on_service_chunk = watch(replica)
        try:
            # 1. The code's confirmation.
            code = await link_up_to_code(linker, suite.cli)
            armed.append(lambda data: b"/confirm" in data)
            answered = await linker.do(
                lambda: linker.send_text(code, label="text <code>"), timeout=40
            )
            if not kills:
                window.failures.append("no replica was killed at the confirmation")
            else:
                await suite.restart(kills[-1], window)
            if not answered or LINKED not in linker.last_text():
                window.failures.append(
                    "card not linked after the kill: the user saw " + repr(linker.last_text()[:70])
                )
            # The user is free at once (no per-user lock left behind by the dead replica).
            await linker.do(lambda: linker.send_text(MENU_VISITS, probe=True), timeout=40)

            # 2. A booking's confirmation.
            before = await suite.cli.upcoming_visits(booker.persona.policy)
            booked_kill = len(kills)

            def arm() -> None:
                armed.append(lambda data: BOOKING.match(data) is not None)

            booked = await book_a_visit(booker, before_confirm=arm, confirm_timeout=40)
            if not booked:
                window.failures.append("no free time to book")
            elif len(kills) == booked_kill:
                window.failures.append("no replica was killed at the booking")
            else:
                await suite.restart(kills[-1], window)
            after = await suite.cli.upcoming_visits(booker.persona.policy)
            new = len(set(after) - set(before))
            window.notes.append(f"kills={len(kills)} visits booked={new}")
            if booked and new != 1:
                window.failures.append(f"the booking made {new} visits, not 1")
            armed.clear()
        finally:
            for replica in REPLICAS:
                proxy = suite.topology.proxies["records", replica]
                proxy.on_client_chunk = proxy.on_service_chunk = None


async def replica_sigterm(suite: Suite) -> None:
    """SIGTERM while updates are in flight: they finish (the drain), new ones are refused
    at once and go to the other replica; the replica exits cleanly and comes back."""
    victim = REPLICAS[0]
    proxy = suite.topology.proxies["records", victim]
    pusher = suite.telegram.pusher
    async with suite.scenario("replica-sigterm-in-flight") as window:
        proxy.delay_s = 1.0  # its backend answers slowly, so its updates are in flight
        deadline = CLOCK.monotonic() + 15
        while pusher.in_flight_at(victim) < 2 and CLOCK.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        in_flight = pusher.in_flight_at(victim)
        process = suite.topology.processes[victim]
        sent_at = CLOCK.monotonic()
        process.send(signal.SIGTERM)
        code = await process.wait_exit(30)
        drain_s = CLOCK.monotonic() - sent_at
        proxy.delay_s = 0.0
        refusals = [
            a.ended - a.started
            for a in pusher.log.attempts
            if a.target == victim and a.started >= sent_at and a.outcome == "503"
        ]
        window.notes.append(
            f"in_flight={in_flight} exit={code} drain_s={drain_s:.1f} refused={len(refusals)}"
            + (f" slowest_refusal_s={max(refusals):.2f}" if refusals else "")
        )
        if in_flight == 0:
            window.failures.append("no update was in flight at the SIGTERM")
        if code != 0:
            window.failures.append(f"the replica exited with {code} after SIGTERM")
        if refusals and max(refusals) > 1.0:
            window.failures.append(f"a refusal while draining took {max(refusals):.1f}s")
        await suite.restart(victim, window)
        await asyncio.sleep(3)


async def worker_sigkill(suite: Suite) -> None:
    """A worker is SIGKILLed while it sends notifications (its sends in flight never reach
    Telegram); the other worker takes its rows after their lease, nothing lost or doubled."""
    async with suite.scenario("worker-sigkill-sending", probing=False) as window:
        killed: list[str] = []

        def on_send(source: str, method: str, chat_id: int | None) -> None:
            if source in WORKERS and method in SEND_METHODS and not killed:
                killed.append(source)
                suite.topology.processes[source].send(signal.SIGKILL)
                say(f"  SIGKILL {source} mid-send")

        suite.telegram.on_send = on_send
        suite.telegram.slow_sends = dict.fromkeys(WORKERS, 1.0)
        abandoned = suite.telegram.abandoned
        try:
            for user in suite.users:
                suite.publish_result(window, user)
            deadline = CLOCK.monotonic() + 30
            while not killed and CLOCK.monotonic() < deadline:
                await suite.telegram.wait_change(0.5)
            if not killed:
                window.failures.append("no worker was sending within 30 s")
            else:
                await asyncio.sleep(1.0)  # compose's restart
                await suite.restart(killed[0], window)
            settled = await suite.notifications_settled(suite.topology.tuning.lease_seconds + 25)
            if not settled:
                window.notes.append("notifications still undelivered 35 s after the kill")
        finally:
            suite.telegram.on_send = None
            suite.telegram.slow_sends = {}
        window.notes.append(f"sends cut by the kill={suite.telegram.abandoned - abandoned}")
