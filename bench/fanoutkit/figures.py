"""The fan-out benchmark's figures: the emulator world that stamps accepted messages, the
measured at-least-once window, and the figures printed per run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.emulator.world import EmulatorWorld
from fanoutkit.shared import CLOCK, MARK


class TimedWorld(EmulatorWorld):
    """Remembers when each bot message was accepted (for the achieved rate)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accepted_at: list[float] = []
        self.row_accepted_at: dict[int, float] = {}

    def add_message(self, chat: Any, *, from_bot: bool, **fields: Any) -> Any:
        if from_bot:
            now = CLOCK.monotonic()
            self.accepted_at.append(now)
            if match := MARK.search(str(fields.get("text") or "")):
                self.row_accepted_at.setdefault(int(match.group(1)), now)
        return super().add_message(chat, from_bot=from_bot, **fields)


@dataclass
class Window:
    """The at-least-once window, measured: for each sent row, from the emulator accepting it
    to the worker having the answer, and to the row being safe from a second send (its
    journal note, or its database mark when there is no journal). A SIGKILL at a
    random instant doubles every row whose window contains that instant, so the expected
    number of rows sent twice is the windows' total length over the run's length (per worker:
    one worker is killed)."""

    rows: int
    answer_p50_ms: float
    answer_p99_ms: float
    mark_p50_ms: float
    mark_p99_ms: float
    expected_twice: float

    @classmethod
    def measure(cls, accepted: dict[int, float], marks_dir: Path, seconds: float) -> Window:
        answer: list[float] = []
        durable: list[float] = []
        files = sorted(marks_dir.glob("*.json"))
        for path in files:
            for row, (answered, marked) in json.loads(path.read_text()).items():
                if (at := accepted.get(int(row))) is not None:
                    answer.append(answered - at)
                    durable.append(marked - at)
        if not durable or seconds <= 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        answer.sort()
        durable.sort()

        def pct(values: list[float], q: float) -> float:
            return values[min(len(values) - 1, int(q * len(values)))] * 1000

        return cls(
            rows=len(durable),
            answer_p50_ms=pct(answer, 0.5),
            answer_p99_ms=pct(answer, 0.99),
            mark_p50_ms=pct(durable, 0.5),
            mark_p99_ms=pct(durable, 0.99),
            expected_twice=sum(durable) / seconds / len(files),
        )


@dataclass
class Figures:
    window: Window
    rate_ratio: float
    lost: int
    twice: int
    http429: int
    workers: int
    killed: int
    seconds: float

    def line(self) -> str:
        return (
            f"fanout: rate_ratio={self.rate_ratio:.2f} lost={self.lost} twice={self.twice} "
            f"http429={self.http429} workers={self.workers} killed={self.killed}"
        )


def print_figures(title: str, figures: Figures, rate: float, messages: int) -> None:
    print(f"--- {title}")
    print(
        f"{messages} messages in {figures.seconds:.1f} s: "
        f"{figures.rate_ratio * rate:.0f} msg/s of {rate:.0f} configured "
        f"(ratio {figures.rate_ratio:.3f}, target >= 0.95)"
    )
    print(f"429 received: {figures.http429}; lost: {figures.lost} (target 0); ", end="")
    print(f"sent twice: {figures.twice} (target 0)")
    w = figures.window
    if w.rows:
        print(
            f"at-least-once window over {w.rows} rows: Telegram accepted -> answer in hand "
            f"p50={w.answer_p50_ms:.1f}ms p99={w.answer_p99_ms:.1f}ms; -> safe from resending "
            f"p50={w.mark_p50_ms:.1f}ms p99={w.mark_p99_ms:.1f}ms; expected sent-twice for "
            f"one SIGKILL at a random instant: {w.expected_twice:.2f}"
        )
    print(figures.line(), flush=True)
