"""Counting what the users got, from the fake Telegram's journal of calls.

Interactive updates (a user's message or button press):
- answered: a replica made a visible call to that chat (a message, an edit, or a callback
  answer with text) while that update was the one being delivered to the chat (`Call.update_id`:
  a chat's updates go one at a time, so a late answer to an update held up by an outage is
  not counted against the user's next action);
- lost: no such call at all (the user heard nothing, not even "temporarily unavailable");
- handled twice: a button's callback query was answered more than once (answers are matched
  by query id; each handling answers once), a probe message got more messages than the
  same probe got from a healthy system (the baseline), or one action got the same message
  twice. Calls the suite itself failed (429/500 bursts) are not counted, so a send retried
  after one is not a second handling;
- silence: from the action to its first visible answer (to the end of its window if none).
  The "your request is kept" notice a replica sends while it cannot take updates
  (bot/outage_notice.py) is an answer, the first one; it is not a second handling, so it is
  left out when messages are counted.

Notifications: each one triggered through the sandbox must reach its user through a worker
(a result matched by its entry id, a cancellation by kind and chat, in order); a second copy
is a notification delivered twice and counts as handled twice (delivery is at-least-once by
design, DEVELOPERS.md, but a copy the user sees twice is still one too many).

A scenario also fails on what its own checks found (`failures`: a card not linked after a
kill, a drain that did not end cleanly, ...) and on a `/readyz` slower than `READYZ_LIMIT_S`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from faultkit.telegram import SEND_METHODS, Call
from faultkit.topology import REPLICAS, WORKERS
from faultkit.users import Action

READYZ_LIMIT_S = 3.0

NOTIFICATION_TEXTS = {
    "result": ("🧪 A new lab result is ready", "📄 A new document is in the medical record"),
    "cancel": ("❌ The clinic cancelled the visit",),
}


OUTAGE_NOTICE = "⚠️ A technical problem"


def _is_notice(call: Call) -> bool:
    return bool(call.text and call.text.startswith(OUTAGE_NOTICE))


def _replies(calls: Iterable[Call]) -> list[Call]:
    """The messages that answer the update itself (not the outage notice)."""
    return [c for c in _attempts(calls) if c.method in SEND_METHODS and not _is_notice(c)]


@dataclass(frozen=True)
class Trigger:
    scenario: str
    chat_id: int
    kind: str  # a key of NOTIFICATION_TEXTS
    at: float
    key: str | None = None  # the result's entry id (its "Open" button carries it)


@dataclass
class Tally:
    scenario: str
    actions: int = 0
    lost: int = 0
    twice: int = 0
    max_silence_s: float = 0.0
    notifications: int = 0
    notifications_lost: int = 0
    notification_duplicates: int = 0
    slowest_notification_s: float = 0.0  # from the clinic's publishing to the user's chat
    worker_exits: int = 0
    replica_exits: int = 0
    readyz_s: float | None = None  # the slowest /readyz answer measured during the fault
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lost_labels: list[str] = field(default_factory=list)
    twice_labels: list[str] = field(default_factory=list)

    @property
    def lost_total(self) -> int:
        return self.lost + self.notifications_lost

    @property
    def twice_total(self) -> int:
        return self.twice + self.notification_duplicates

    def held(self, max_silence_s: float) -> bool:
        return (
            self.lost_total == 0
            and self.twice_total == 0
            and self.worker_exits == 0
            and self.max_silence_s <= max_silence_s
            and (self.readyz_s is None or self.readyz_s <= READYZ_LIMIT_S)
            and not self.failures
        )


def _attempts(calls: Iterable[Call]) -> list[Call]:
    """Calls the product made and the emulator judged (not ones the suite failed on purpose)."""
    return [c for c in calls if not c.injected]


def count_interactive(
    actions: list[Action], calls: list[Call], end: float, baseline: str
) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    replies: dict[int, list[Call]] = defaultdict(list)
    answers: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        if call.source not in REPLICAS:
            continue
        if call.chat_id is not None:
            replies[call.chat_id].append(call)
        if call.method == "answercallbackquery" and call.query_id and not call.injected:
            answers[call.query_id].append(call)
    by_chat: dict[int, list[Action]] = defaultdict(list)
    for action in actions:
        by_chat[action.chat_id].append(action)
    windows: dict[int, list[Call]] = {}
    for chat_actions in by_chat.values():
        chat_actions.sort(key=lambda a: a.sent_at)
        for index, action in enumerate(chat_actions):
            until = chat_actions[index + 1].sent_at if index + 1 < len(chat_actions) else end
            windows[id(action)] = [
                c
                for c in replies[action.chat_id]
                if action.sent_at <= c.at
                and (
                    c.update_id == action.update_id
                    if action.update_id is not None and c.update_id is not None
                    else c.at < until
                )
            ]
    expected = _expected_sends(actions, windows, baseline)
    for chat_actions in by_chat.values():
        for index, action in enumerate(chat_actions):
            if action.gesture:
                continue  # judged by its scenario (count_gesture)
            tally = tallies.setdefault(action.scenario, Tally(action.scenario))
            tally.actions += 1
            window = windows[id(action)]
            until = chat_actions[index + 1].sent_at if index + 1 < len(chat_actions) else end
            visible = [c for c in window if c.visible]
            answered_at = visible[0].at if visible else None
            silence = (answered_at if answered_at is not None else until) - action.sent_at
            tally.max_silence_s = max(tally.max_silence_s, silence)
            if answered_at is None:
                tally.lost += 1
                tally.lost_labels.append(f"{action.user}:{action.label}#{action.update_id}")
            if action.kind == "callback":
                doubled = len(answers.get(action.query_id or "", [])) > 1
            else:
                sends = len(_replies(window))
                limit = expected.get((action.user, action.label))
                doubled = action.probe and limit is not None and sends > limit
            doubled = doubled or _same_message_twice(window)
            if doubled:
                tally.twice += 1
                tally.twice_labels.append(f"{action.user}:{action.label}#{action.update_id}")
    return tallies


@dataclass
class GestureCount:
    presses: int = 0
    lost: int = 0  # never answered, or dropped with an empty popup and nothing else
    twice: int = 0  # a press answered more than once
    told: int = 0  # answered with a popup text ("too many presses")
    max_silence_s: float = 0.0


def count_gesture(presses: list[Action], calls: list[Call], end: float) -> GestureCount:
    """Presses made at once (a flood): each must be answered exactly once, by its query id.
    A press answered with a popup text was told; one answered empty must have done what it
    was for, so the empty answers may not outnumber the visible replies (edits, messages)
    that came to the chat from the first press until `end`; any more are dropped presses
    that got an empty popup and nothing else. Silence: a press's popup text, or else the
    first visible reply after it."""
    count = GestureCount(presses=len(presses))
    if not presses:
        return count
    chat = presses[0].chat_id
    start = min(p.sent_at for p in presses)
    replies = [
        c
        for c in _attempts(calls)
        if c.chat_id == chat
        and c.source in REPLICAS
        and start <= c.at < end
        and c.ok
        and c.method != "answercallbackquery"
    ]
    empty = 0
    for press in presses:
        own = [
            c
            for c in _attempts(calls)
            if c.method == "answercallbackquery" and c.query_id == press.query_id and c.ok
        ]
        if not own:
            count.lost += 1
            count.max_silence_s = max(count.max_silence_s, end - press.sent_at)
            continue
        if len(own) > 1:
            count.twice += 1
        if own[0].with_text:
            count.told += 1
            heard = own[0].at
        else:
            empty += 1
            later = [c.at for c in replies if c.at >= press.sent_at]
            heard = later[0] if later else end
        count.max_silence_s = max(count.max_silence_s, heard - press.sent_at)
    count.lost += max(0, empty - len(replies))
    return count


def _same_message_twice(window: list[Call]) -> bool:
    """One action answered by two identical messages: the update was handled twice."""
    texts = [c.text for c in _replies(window) if c.ok and c.text]
    return len(texts) != len(set(texts))


def _expected_sends(
    actions: list[Action], windows: dict[int, list[Call]], baseline: str
) -> dict[tuple[str, str], int]:
    """How many messages each probe gets from a healthy system (its fewest in the baseline)."""
    seen: dict[tuple[str, str], int] = {}
    for action in actions:
        if not action.probe or action.scenario != baseline or action.kind != "message":
            continue
        sends = len(_replies(windows[id(action)]))
        if sends == 0:
            continue
        key = (action.user, action.label)
        seen[key] = min(seen.get(key, sends), sends)
    # A probe the baseline did not show: one message (each probe answers with one).
    for action in actions:
        if action.probe and action.kind == "message":
            seen.setdefault((action.user, action.label), 1)
    return seen


def notification_kind(text: str | None) -> str | None:
    for kind, starts in NOTIFICATION_TEXTS.items():
        if text and text.startswith(starts):
            return kind
    return None


def count_notifications(
    triggers: list[Trigger], calls: list[Call], tallies: dict[str, Tally]
) -> None:
    """A result is matched by its entry id; cancellations (whose buttons name no visit) by
    count per chat, in order."""
    sent: dict[tuple[int, str], list[Call]] = defaultdict(list)
    for call in calls:
        if call.source in WORKERS and call.ok and call.method in SEND_METHODS:
            kind = notification_kind(call.text)
            if kind is not None and call.chat_id is not None:
                sent[call.chat_id, kind].append(call)
    wanted: dict[tuple[int, str], list[Trigger]] = defaultdict(list)
    for trigger in sorted(triggers, key=lambda t: t.at):
        wanted[trigger.chat_id, trigger.kind].append(trigger)
    for key, queue in wanted.items():
        got = sent.get(key, [])
        unmatched = list(got)
        for position, trigger in enumerate(queue):
            tally = tallies.setdefault(trigger.scenario, Tally(trigger.scenario))
            tally.notifications += 1
            if trigger.key is not None:
                copies = [c for c in got if trigger.key in c.markup]
                unmatched = [c for c in unmatched if trigger.key not in c.markup]
                if not copies:
                    tally.notifications_lost += 1
                else:
                    tally.slowest_notification_s = max(
                        tally.slowest_notification_s, copies[0].at - trigger.at
                    )
                tally.notification_duplicates += max(0, len(copies) - 1)
            elif position >= len(got):
                tally.notifications_lost += 1
            else:
                tally.slowest_notification_s = max(
                    tally.slowest_notification_s, got[position].at - trigger.at
                )
        keyless = [t for t in queue if t.key is None]
        if keyless and len(unmatched) > len(keyless):
            tally = tallies.setdefault(keyless[-1].scenario, Tally(keyless[-1].scenario))
            tally.notification_duplicates += len(unmatched) - len(keyless)


def undelivered(triggers: list[Trigger], calls: list[Call]) -> int:
    scratch: dict[str, Tally] = {}
    count_notifications(triggers, calls, scratch)
    return sum(t.notifications_lost for t in scratch.values())


def line(tally: Tally, max_silence_s: float) -> str:
    """One line per fault: verdict, lost / twice (updates and notifications together), the
    longest silence, and what else was measured; why it failed, if it did."""
    verdict = "held" if tally.held(max_silence_s) else "NOT held"
    extra = ""
    if tally.notifications:
        extra += f" notified={tally.notifications - tally.notifications_lost}/{tally.notifications}"
        if tally.notification_duplicates:
            extra += f" notified_twice={tally.notification_duplicates}"
        if tally.notifications > tally.notifications_lost:
            extra += f" slowest_notification_s={tally.slowest_notification_s:.1f}"
    if tally.readyz_s is not None:
        extra += f" readyz_s={tally.readyz_s:.1f}"
    extra += f" worker_exits={tally.worker_exits}"
    if tally.replica_exits:
        extra += f" replica_exits={tally.replica_exits}"
    reasons = list(tally.failures)
    if tally.max_silence_s > max_silence_s:
        reasons.append(f"silence over {max_silence_s:g} s")
    if tally.readyz_s is not None and tally.readyz_s > READYZ_LIMIT_S:
        reasons.append(f"/readyz over {READYZ_LIMIT_S:g} s")
    if tally.lost_labels:
        reasons.append("lost " + ", ".join(tally.lost_labels[:3]))
    if tally.twice_labels:
        reasons.append("twice " + ", ".join(tally.twice_labels[:3]))
    notes = "; ".join([*tally.notes, *reasons])
    return (
        f"fault {tally.scenario}: {verdict} lost={tally.lost_total} twice={tally.twice_total} "
        f"max_silence_s={tally.max_silence_s:.1f} updates={tally.actions}{extra}"
        + (f" ({notes})" if notes else "")
    )
