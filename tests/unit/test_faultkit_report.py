"""The fault suite's report (bench/faultkit/report.py): how it counts what users got from the
fake Telegram's journal — lost, handled twice, silence, notifications, a flood of presses, and
when a fault is held. No processes are started."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import faultkit.report as report
from faultkit.telegram import Call
from faultkit.users import Action

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
    update: int | None = None,
) -> Call:
    ok = status == 200
    return Call(
        at,
        source,
        method,
        chat,
        query,
        status,
        injected,
        text if ok else None,
        False,
        markup,
        update,
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


def test_a_late_answer_belongs_to_its_own_update_not_to_the_next_action() -> None:
    """A text held up by an outage: the user got the notice and typed the same again; the
    first one's answer comes after the second was sent. One answer each: nothing twice."""
    notice = "⚠️ A technical problem: answers are delayed."
    first, again = _action(10.0, label="text /records"), _action(12.0, label="text /records")
    actions = [_action(0.0, scenario="baseline", label="text /records"), first, again]
    calls = [
        _call(0.2, text="Your record", update=0),
        _call(10.5, text=notice, update=100),
        _call(40.0, text="Your record", update=100),  # the first update, after the outage
        _call(40.5, text="Your record", update=120),  # the second one's own answer
    ]
    fault = report.count_interactive(actions, calls, end=50.0, baseline="baseline")["fault"]
    assert (fault.lost, fault.twice) == (0, 0)


def test_one_update_answered_by_both_replicas_is_still_twice() -> None:
    actions = [_action(0.0, scenario="baseline"), _action(10.0), _action(12.0)]
    calls = [
        _call(0.2, text="Your visits", update=0),
        _call(10.5, text="Your visits", update=100),
        _call(13.0, text="Your visits", source="replica-b", update=100),
        _call(13.5, text="Your visits", update=120),
    ]
    fault = report.count_interactive(actions, calls, end=20.0, baseline="baseline")["fault"]
    assert fault.twice == 1
    assert fault.twice_labels == ["u1:text /visits#100"]


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
