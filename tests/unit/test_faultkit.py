"""The fault suite's kit (bench/faultkit): what a client behind its TCP proxy sees when the link
is cut, stalled or slowed; how its fake Telegram's bursts fail calls; and how the report counts
what users got (lost, handled twice, silence, notifications). No processes are started."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import faultkit.report as report
from faultkit.proxy import Mode, ProxyGroup, TcpProxy
from faultkit.telegram import Call, TelegramFaults
from faultkit.users import Action


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1024):
            writer.write(data.upper())
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    running = TcpProxy("echo", "127.0.0.1", port)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        server.close()
        await server.wait_closed()


async def _ask(
    proxy: TcpProxy, text: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(text)
    await writer.drain()
    return reader, writer, await asyncio.wait_for(reader.read(1024), 5)


async def _connection_fails(proxy: TcpProxy) -> bool:
    """True when a new connection through the proxy breaks instead of carrying a request."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
    except ConnectionError:
        return True
    writer.close()
    return answer == b""


async def test_a_flowing_proxy_carries_requests_both_ways(proxy: TcpProxy) -> None:
    _, writer, answer = await _ask(proxy, b"hello")
    assert answer == b"HELLO"
    assert proxy.stats.client_chunks == 1
    writer.close()


async def _link_broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """True when an open connection no longer carries a request (reset, or closed)."""
    try:
        writer.write(b"after")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
    except ConnectionError:
        return True
    return answer == b""


async def test_a_cut_breaks_open_connections_and_refuses_new_ones(proxy: TcpProxy) -> None:
    reader, writer, _ = await _ask(proxy, b"before")
    proxy.cut()
    assert await _link_broken(reader, writer)
    assert proxy.stats.aborted_by_cut == 1
    assert await _connection_fails(proxy)
    assert proxy.stats.reset_on_accept == 1
    proxy.heal()
    _, writer, answer = await _ask(proxy, b"healed")
    assert answer == b"HEALED"
    writer.close()


async def test_a_stall_holds_everything_and_releases_it_when_healed(proxy: TcpProxy) -> None:
    reader, writer, _ = await _ask(proxy, b"first")
    proxy.stall()
    writer.write(b"second")
    await writer.drain()
    with pytest.raises(TimeoutError):  # accepted, but no answer comes while stalled
        await asyncio.wait_for(reader.read(1024), 0.3)
    fresh_reader, fresh_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    fresh_writer.write(b"fresh")
    await fresh_writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(fresh_reader.read(1024), 0.3)
    proxy.heal()
    assert await asyncio.wait_for(reader.read(1024), 5) == b"SECOND"
    assert await asyncio.wait_for(fresh_reader.read(1024), 5) == b"FRESH"
    writer.close()
    fresh_writer.close()


async def test_the_chunk_hook_sees_each_request_once_it_left(proxy: TcpProxy) -> None:
    seen: list[bytes] = []
    proxy.on_client_chunk = seen.append
    _, writer, _ = await _ask(proxy, b"watched")
    assert seen == [b"watched"]
    assert await proxy.wait_client_chunk(after=0, timeout=1)
    writer.close()


async def test_a_group_puts_the_fault_on_every_proxy(proxy: TcpProxy) -> None:
    other = TcpProxy("echo-2", proxy.upstream_host, proxy.upstream_port)
    await other.start()
    try:
        group = ProxyGroup("echo", [proxy, other])
        group.cut()
        assert {p.mode for p in group.proxies} == {Mode.CUT}
        assert await _connection_fails(other)
        group.heal()
        _, writer, answer = await _ask(other, b"ok")
        assert answer == b"OK"
        writer.close()
    finally:
        await other.stop()


async def test_an_unreachable_service_fails_the_client_connection() -> None:
    probe = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()  # nothing listens on `port` now
    dead = TcpProxy("dead", "127.0.0.1", port)
    await dead.start()
    try:
        assert await _connection_fails(dead)
        assert dead.stats.upstream_failures == 1
    finally:
        await dead.stop()


async def test_a_delay_slows_each_answer_and_the_answer_hook_sees_it_first(
    proxy: TcpProxy,
) -> None:
    heard: list[bytes] = []
    proxy.delay_s = 0.2
    proxy.on_service_chunk = heard.append
    loop = asyncio.get_running_loop()
    started = loop.time()
    _, writer, answer = await _ask(proxy, b"slow")
    assert answer == b"SLOW"
    assert loop.time() - started >= 0.2
    assert heard == [b"SLOW"]
    writer.close()


# ----- the fake Telegram's bursts ------------------------------------------------------------


def test_a_burst_fails_the_next_calls_to_each_chat_then_lets_them_through() -> None:
    faults = TelegramFaults()
    faults.arm(status=429, per_chat=2, chats=[1, 2], sources=["replica-a"], retry_after=3)
    first = faults.take("replica-a", "sendmessage", 1)
    assert first is not None
    assert first.status == 429
    assert first.retry_after == 3
    assert faults.take("worker-1", "sendmessage", 1) is None  # another source
    assert faults.take("replica-a", "getme", 1) is None  # not a reply
    assert faults.take("replica-a", "sendmessage", 1) is not None
    assert faults.take("replica-a", "sendmessage", 1) is None  # chat 1's burst is over
    assert faults.left() == 2  # chat 2's two are still armed
    assert faults.injected == 2


def test_bursts_armed_one_after_another_fail_in_that_order() -> None:
    faults = TelegramFaults()
    faults.arm(status=429, per_chat=1, chats=[7], sources=["worker-1"])
    faults.arm(status=500, per_chat=1, chats=[7], sources=["worker-1"])
    statuses = [faults.take("worker-1", "sendmessage", 7) for _ in range(3)]
    assert [e.status if e else None for e in statuses] == [429, 500, None]


# ----- the report ----------------------------------------------------------------------------

CHAT = 11


def _action(
    at: float,
    *,
    scenario: str = "fault",
    kind: str = "message",
    label: str = "text /visits",
    query: str | None = None,
    probe: bool = True,
) -> Action:
    return Action("u1", CHAT, label, kind, scenario, int(at * 10), query, at, probe)


def _call(
    at: float,
    method: str = "sendmessage",
    *,
    text: str | None = "Your visits",
    source: str = "replica-a",
    status: int = 200,
    injected: bool = False,
    query: str | None = None,
    markup: str = "",
    chat: int = CHAT,
) -> Call:
    ok = status == 200
    return Call(
        at, source, method, chat, query, status, injected, text if ok else None, False, markup
    )


def test_an_answered_update_counts_its_silence_and_is_not_lost() -> None:
    actions = [_action(0.0, scenario="baseline"), _action(10.0)]
    calls = [_call(0.4), _call(13.5)]
    tallies = report.count_interactive(actions, calls, end=20.0, baseline="baseline")
    fault = tallies["fault"]
    assert (fault.actions, fault.lost, fault.twice) == (1, 0, 0)
    assert fault.max_silence_s == pytest.approx(3.5)
    assert fault.held(5.0)


def test_an_update_never_answered_is_lost_and_silent_until_the_next_action() -> None:
    actions = [_action(0.0), _action(30.0, label="text /records")]
    calls = [_call(30.2, text="Your record")]
    fault = report.count_interactive(actions, calls, end=40.0, baseline="baseline")["fault"]
    assert fault.lost == 1
    assert fault.lost_labels == ["u1:text /visits#0"]
    assert fault.max_silence_s == pytest.approx(30.0)
    assert not fault.held(5.0)
    assert "NOT held lost=1" in report.line(fault, 5.0)


def test_an_answer_refused_on_purpose_is_not_an_answer() -> None:
    actions = [_action(0.0)]
    calls = [_call(0.1, status=429, injected=True), _call(2.3)]
    fault = report.count_interactive(actions, calls, end=5.0, baseline="baseline")["fault"]
    assert fault.lost == 0
    assert fault.twice == 0  # the refused attempt and its retry are one handling
    assert fault.max_silence_s == pytest.approx(2.3)


def test_a_button_answered_twice_was_handled_twice() -> None:
    actions = [_action(0.0, kind="callback", label="press section", query="q1", probe=False)]
    calls = [
        _call(0.2, "answercallbackquery", text=None, query="q1"),
        _call(0.3, "editmessagetext", text="Lab results"),
        _call(3.0, "answercallbackquery", text=None, query="q1", source="replica-b"),
    ]
    fault = report.count_interactive(actions, calls, end=5.0, baseline="baseline")["fault"]
    assert fault.twice == 1
    assert fault.lost == 0


def test_a_probe_with_more_messages_than_on_a_good_day_was_handled_twice() -> None:
    actions = [_action(0.0, scenario="baseline"), _action(10.0)]
    calls = [_call(0.2, text="Your visits"), _call(10.2, text="Your visits: 1")]
    calls.append(_call(12.0, text="Your visits: 2", source="replica-b"))
    tallies = report.count_interactive(actions, calls, end=20.0, baseline="baseline")
    assert tallies["baseline"].twice == 0
    assert tallies["fault"].twice == 1


def test_the_same_message_twice_for_one_action_was_handled_twice() -> None:
    actions = [_action(0.0, label="text <code>", probe=False)]
    calls = [_call(0.5, text="Linked"), _call(4.0, text="Linked", source="replica-b")]
    fault = report.count_interactive(actions, calls, end=9.0, baseline="baseline")["fault"]
    assert fault.twice == 1
    assert fault.twice_labels == ["u1:text <code>#0"]


def test_the_kept_request_notice_is_the_first_answer_not_a_second_handling() -> None:
    notice = "⚠️ A technical problem: answers are delayed. Your request is kept ..."
    actions = [_action(0.0, scenario="baseline"), _action(10.0), _action(40.0, probe=False)]
    calls = [
        _call(0.2, text="Your visits"),
        _call(11.0, text=notice),  # Redis away: told at once ...
        _call(31.0, text="Your visits"),  # ... the redelivery's answer after it came back
        _call(41.0, text=notice),
        _call(41.5, text=notice, source="replica-b"),  # told by both replicas
        _call(42.0, text="Linked"),
    ]
    fault = report.count_interactive(actions, calls, end=50.0, baseline="baseline")["fault"]
    assert (fault.lost, fault.twice) == (0, 0)
    assert fault.max_silence_s == pytest.approx(1.0)


def test_a_notice_alone_still_counts_as_heard_but_a_doubled_answer_beside_it_does_not_hide() -> (
    None
):
    notice = "⚠️ A technical problem: answers are delayed."
    actions = [_action(0.0, scenario="baseline"), _action(10.0)]
    calls = [
        _call(0.2, text="Your visits"),
        _call(10.5, text=notice),
        _call(20.0, text="Your visits: 1"),
        _call(21.0, text="Your visits: 2", source="replica-b"),
    ]
    fault = report.count_interactive(actions, calls, end=30.0, baseline="baseline")["fault"]
    assert fault.twice == 1


def _notified(at: float, entry: str, *, source: str = "worker-1") -> Call:
    return _call(at, text="🧪 A new lab result is ready for you.", source=source, markup=entry)


def test_notifications_are_matched_by_entry_once_twice_or_never() -> None:
    triggers = [
        report.Trigger("fault", CHAT, "result", 1.0, "e-once"),
        report.Trigger("fault", CHAT, "result", 2.0, "e-twice"),
        report.Trigger("fault", CHAT, "result", 3.0, "e-never"),
    ]
    calls = [
        _notified(4.0, "e-once"),
        _notified(5.0, "e-twice"),
        _notified(9.0, "e-twice", source="worker-2"),
        _notified(6.0, "e-other"),  # not one of the suite's
        _call(7.0, text="🧪 A new lab result is ready for you.", markup="e-never"),  # a replica
    ]
    tallies: dict[str, report.Tally] = {}
    report.count_notifications(triggers, calls, tallies)
    fault = tallies["fault"]
    assert (fault.notifications, fault.notifications_lost) == (3, 1)
    assert fault.notification_duplicates == 1
    assert (fault.lost_total, fault.twice_total) == (1, 1)
    assert fault.slowest_notification_s == pytest.approx(3.0)
    assert report.undelivered(triggers, calls) == 1
    assert "notified=2/3 notified_twice=1" in report.line(fault, 5.0)


def test_a_slow_readyz_or_a_failed_check_is_not_held() -> None:
    tally = report.Tally("postgres-stall", actions=3, max_silence_s=1.0)
    assert tally.held(5.0)
    tally.readyz_s = 3.5
    assert not tally.held(5.0)
    assert "/readyz over 3 s" in report.line(tally, 5.0)
    tally.readyz_s = 1.0
    tally.failures.append("the card was not linked")
    assert "NOT held" in report.line(tally, 5.0)
    assert "the card was not linked" in report.line(tally, 5.0)


def _press(at: float, query: str) -> Action:
    return Action("u1", CHAT, "press section", "callback", "flood", 1, query, at, False, True)


def _popup(at: float, query: str, *, words: bool) -> Call:
    return Call(at, "replica-a", "answercallbackquery", CHAT, query, 200, False, None, words)


def test_a_flood_is_held_when_every_dropped_press_is_told() -> None:
    presses = [_press(0.00, "q1"), _press(0.02, "q2"), _press(0.04, "q3")]
    calls = [
        _popup(0.1, "q1", words=False),
        _call(0.2, "editmessagetext", text="Lab results"),
        _popup(0.3, "q2", words=True),  # "too many presses"
        _popup(0.4, "q3", words=True),
    ]
    count = report.count_gesture(presses, calls, end=2.0)
    assert (count.presses, count.lost, count.twice, count.told) == (3, 0, 0, 2)
    assert count.max_silence_s == pytest.approx(0.36)


def test_a_dropped_press_with_an_empty_popup_and_nothing_else_is_lost() -> None:
    presses = [_press(0.0, "q1"), _press(0.1, "q2"), _press(0.2, "q3")]
    calls = [
        _popup(0.3, "q1", words=False),
        _call(0.4, "editmessagetext", text="Lab results"),
        _popup(0.5, "q2", words=False),  # dropped, but the popup says nothing
        _popup(0.6, "q3", words=False),
        _popup(0.7, "q3", words=False),
    ]
    count = report.count_gesture(presses, calls, end=2.0)
    assert count.lost == 2
    assert count.twice == 1


def test_a_press_never_answered_is_lost_and_silent_to_the_end() -> None:
    count = report.count_gesture([_press(1.0, "q1")], [], end=6.0)
    assert count.lost == 1
    assert count.max_silence_s == pytest.approx(5.0)


def test_presses_of_a_flood_are_left_to_their_scenario() -> None:
    actions = [_action(0.0), _press(1.0, "q1")]
    calls = [_call(0.2)]
    tallies = report.count_interactive(actions, calls, end=9.0, baseline="baseline")
    assert tallies["fault"].actions == 1
    assert "flood" not in tallies
