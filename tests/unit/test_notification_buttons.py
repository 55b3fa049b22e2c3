"""The buttons under a notification: the owning feature's own callbacks, marked where the flow
must open in a new message (the notification stays in the chat), and within Telegram's 64 bytes
with the longest ids the protocol allows."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData

from bot.services.notifications.render import Action, Button
from keyboards.appointments import (
    HIT_BOOK,
    HIT_STOP,
    Flow,
    VisitAction,
    VisitCb,
    WatchHitCb,
    WhoCb,
)
from keyboards.notifications import notification_keyboard
from keyboards.records import DocAction, RecDocCb

MAX_ROW_ID = 2**31 - 1  # person rows and watch hits are SQL INTEGER ids
LONGEST_REF = "A" * 24  # backend ids: at most 24 characters (backend_client.protocol)


def pressed(action: str, person_id: int = 7, ref: str = "a1b2c3") -> str:
    markup = notification_keyboard([Button("x", action, person_id, ref)])
    assert markup is not None
    [[button]] = markup.inline_keyboard
    return str(button.callback_data)


def test_visit_and_booking_buttons_of_a_notification_are_marked() -> None:
    move = VisitCb.unpack(pressed(Action.RESCHEDULE))
    cancel = VisitCb.unpack(pressed(Action.CANCEL))
    book = VisitCb.unpack(pressed(Action.BOOK))  # the cancelled visit's doctor (issue 14, 11d)
    first = WhoCb.unpack(pressed(Action.BOOK, ref=""))  # no visit: the first choice
    assert (move.action, move.person_id, move.appointment_id, move.n) == (
        VisitAction.MOVE,
        7,
        "a1b2c3",
        True,
    )
    assert (cancel.action, cancel.n) == (VisitAction.CANCEL, True)
    assert (book.action, book.person_id, book.appointment_id, book.n) == (
        VisitAction.AGAIN,
        7,
        "a1b2c3",
        True,
    )
    assert (first.flow, first.person_id, first.n) == (Flow.BOOK, 7, True)


def test_buttons_whose_handlers_never_replace_the_message_are_unchanged() -> None:
    assert pressed(Action.OPEN_ENTRY) == RecDocCb(a=DocAction.OPEN, p=7, e="a1b2c3").pack()
    assert pressed(Action.WATCH_BOOK, ref="42") == WatchHitCb(hit_id=42, action=HIT_BOOK).pack()
    assert pressed(Action.WATCH_STOP, ref="42") == WatchHitCb(hit_id=42, action=HIT_STOP).pack()


def test_ordinary_screens_are_not_marked() -> None:
    assert not VisitCb(action=VisitAction.MOVE, person_id=1, appointment_id="a").n
    assert not WhoCb(flow=Flow.BOOK, person_id=1).n


def test_buttons_sent_before_the_mark_existed_still_work_as_ordinary_ones() -> None:
    old_visit = VisitCb.unpack("av:cc:12:a1b2c3")
    assert (old_visit.action, old_visit.person_id, old_visit.appointment_id) == (
        VisitAction.CANCEL_CONFIRM,
        12,
        "a1b2c3",
    )
    assert not old_visit.n
    old_who = WhoCb.unpack("aw:b:5")
    assert (old_who.flow, old_who.person_id, old_who.n) == (Flow.BOOK, 5, False)


@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (VisitCb, "av:m:12"),  # a part missing
        (VisitCb, "av:m:12:a:1:1"),  # a part too many
        (VisitCb, "av:m:12:a:yes please"),
        (WhoCb, "aw:b"),
        (WhoCb, "aw:b:5:2"),
        (WhoCb, "aw:x:5:1"),
    ],
)
def test_malformed_data_is_still_refused(cls: type[CallbackData], data: str) -> None:
    with pytest.raises((TypeError, ValueError)):
        cls.unpack(data)


def test_the_longest_notification_buttons_fit_telegram() -> None:
    packed = [
        pressed(action, MAX_ROW_ID, LONGEST_REF)
        for action in (Action.OPEN_ENTRY, Action.RESCHEDULE, Action.CANCEL, Action.BOOK)
    ]
    packed += [
        pressed(a, MAX_ROW_ID, str(MAX_ROW_ID)) for a in (Action.WATCH_BOOK, Action.WATCH_STOP)
    ]
    for action in VisitAction:  # every visit button, marked or not
        packed.append(
            VisitCb(action=action, person_id=MAX_ROW_ID, appointment_id=LONGEST_REF, n=True).pack()
        )
    for flow in Flow:
        packed.append(WhoCb(flow=flow, person_id=MAX_ROW_ID, n=True).pack())
    assert max(len(p.encode()) for p in packed) <= MAX_CALLBACK_LENGTH
