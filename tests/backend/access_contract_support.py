"""Shared by the access contract suites (tests/backend/test_access_contract_*.py): the requester
the tests act as. The suites run on every backend adapter through the ``harness`` fixture in
tests/backend/conftest.py."""

from __future__ import annotations

from tests.backend.conftest import requester

ME = requester("me", "Анна С.")
