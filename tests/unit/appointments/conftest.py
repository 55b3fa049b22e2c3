"""Fixtures of the appointments tests: a seeded sandbox per test on a ManualClock that the bot
reads too (`clock` in the workflow data), and users who already gave consent
(tests/unit/flow_fixtures.py)."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.settings import Settings
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock)
