"""A flood from one user is cut off; a dropped press says to press again; others go on."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, DeleteMessage, SendMessage

from bot.middlewares.throttling import ThrottlingMiddleware
from bot.services.rate_limit import MemoryRateLimiter
from bot.settings import Settings
from tests.recording_bot import RecordingSession
from tests.unit.chat import Chat
from tests.updates import tg_user


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stopped(dispatcher: Dispatcher) -> FakeClock:
    """Stops time for the dispatcher's own limiters (rate and burst as the factory made them):
    the app clock's monotonic time keeps running, and a slow machine would refill a bucket."""
    stopped = FakeClock()
    [middleware] = [
        m for m in dispatcher.update.outer_middleware if isinstance(m, ThrottlingMiddleware)
    ]
    limiter = middleware._limiter
    assert isinstance(limiter, MemoryRateLimiter)
    limiter._clock = stopped
    middleware._notices._clock = stopped
    return stopped


def _chat(dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession], uid: int) -> Chat:
    bot, session = bot_and_session
    return Chat(dispatcher, bot, session, tg_user(uid, language_code="en"))


def _burst(settings: Settings) -> int:
    return int(settings.app.throttle_per_second * 2)


async def test_a_burst_beyond_the_rate_is_dropped(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    settings: Settings,
    stopped: FakeClock,
) -> None:
    chat = _chat(dispatcher, bot_and_session, 7001)
    burst = _burst(settings)
    assert burst == 6  # THROTTLE_PER_SECOND=3 by default, bursts of twice that

    answered = notices = 0
    for _ in range(burst + 5):
        for request in await chat.send("/help"):
            if isinstance(request, SendMessage):
                if "Too fast" in request.text:
                    notices += 1
                else:
                    answered += 1
    assert answered == burst
    # The dropped messages are not lost in silence: one notice, not one per message.
    assert notices == 1

    # Somebody else is not held back by it.
    other = _chat(dispatcher, bot_and_session, 7002)
    assert len(await other.send("/help")) == 1

    # A second later the user has a few answers again (3 per second), and no more.
    stopped.now += 1.0
    replies = [await chat.send("/help") for _ in range(5)]
    assert [len(r) for r in replies] == [1, 1, 1, 0, 0]  # the notice waits its 10 seconds


async def test_dropped_button_presses_are_still_answered(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    settings: Settings,
    stopped: FakeClock,
) -> None:
    chat = _chat(dispatcher, bot_and_session, 7003)
    burst = _burst(settings)
    presses = [await chat.press("stale:button") for _ in range(burst + 4)]

    # Every press is answered exactly once (or the button spins for the user) ...
    assert all(len(replies) == 1 for replies in presses)
    assert all(isinstance(replies[0], AnswerCallbackQuery) for replies in presses)
    # ... the ones within the rate with the real answer, the dropped ones with a short popup
    # that says what happened and what to do: nothing is lost, the user presses again.
    handled = [r[0] for r in presses[:burst]]
    dropped = [r[0] for r in presses[burst:]]
    assert all(a.text and a.show_alert for a in handled if isinstance(a, AnswerCallbackQuery))
    assert not any("Too many presses" in str(getattr(a, "text", "")) for a in handled)
    for answer in dropped:
        assert isinstance(answer, AnswerCallbackQuery)
        assert answer.text == "Too many presses: wait a second and press again."
        assert not answer.show_alert  # a passing popup, not a dialog to dismiss

    # A second later the press goes through again.
    stopped.now += 1.0
    [again] = await chat.press("stale:button")
    assert isinstance(again, AnswerCallbackQuery) and again.show_alert
    assert again.text and "Too many presses" not in again.text


async def test_the_dropped_press_popup_speaks_the_users_language(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    settings: Settings,
    stopped: FakeClock,
) -> None:
    bot, session = bot_and_session
    chat = Chat(dispatcher, bot, session, tg_user(7005, language_code="ru"))
    presses = [await chat.press("stale:button") for _ in range(_burst(settings) + 1)]
    [dropped] = presses[-1]
    assert isinstance(dropped, AnswerCallbackQuery)
    assert dropped.text == "Слишком много нажатий: подождите секунду и нажмите ещё раз."


async def test_dropped_updates_do_no_database_work(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    settings: Settings,
    stopped: FakeClock,
) -> None:
    # The limiter runs before the DB session middleware: a flood costs no queries or writes.
    from sqlalchemy import func, select

    from bot.db.models import User

    chat = _chat(dispatcher, bot_and_session, 7004)
    for _ in range(_burst(settings)):
        await chat.send("hi")
    sessionmaker = dispatcher["sessionmaker"]
    async with sessionmaker() as db:
        seen_before = await db.scalar(select(User.last_seen_at).where(User.telegram_id == 7004))
    dropped = [await chat.send("hi") for _ in range(5)]
    # Only the one "too fast" notice goes out; no handler ran.
    assert [len(replies) for replies in dropped] == [1, 0, 0, 0, 0]
    async with sessionmaker() as db:
        seen_after = await db.scalar(select(User.last_seen_at).where(User.telegram_id == 7004))
        assert await db.scalar(select(func.count()).select_from(User)) == 1
    assert seen_after == seen_before


async def test_memory_limiter_refills_over_time() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(rate=2.0, burst=4, clock=clock)

    assert [await limiter.hit("a") for _ in range(5)] == [True] * 4 + [False]
    assert await limiter.hit("b")  # keys are independent

    clock.now += 0.25  # half a token
    assert not await limiter.hit("a")
    clock.now += 0.25  # now a whole one
    assert await limiter.hit("a")
    assert not await limiter.hit("a")

    clock.now += 60  # a long pause refills to the burst, not beyond
    assert [await limiter.hit("a") for _ in range(5)] == [True] * 4 + [False]


async def test_denied_hits_do_not_push_the_refill_back() -> None:
    # Hammering while blocked must not keep a user blocked forever.
    clock = FakeClock()
    limiter = MemoryRateLimiter(rate=1.0, burst=1, clock=clock)
    assert await limiter.hit("a")
    for _ in range(10):
        clock.now += 0.099
        assert not await limiter.hit("a")
    clock.now += 0.02  # 1.01 s after the first hit
    assert await limiter.hit("a")


async def test_a_skipped_policy_number_or_code_does_not_stay_in_the_chat(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    settings: Settings,
    stopped: FakeClock,
) -> None:
    chat = _chat(dispatcher, bot_and_session, 7003)
    for _ in range(_burst(settings)):
        await chat.send("/help")

    skipped_policy = await chat.send("7709 4703 6223 4357")
    skipped_code = await chat.send("123 456")
    skipped_chatter = await chat.send("hello?")

    assert any(isinstance(r, DeleteMessage) for r in skipped_policy)
    assert any(isinstance(r, DeleteMessage) for r in skipped_code)
    assert not any(isinstance(r, DeleteMessage) for r in skipped_chatter)
