"""Channel-neutral conversations (issue 13): each feature's state machine takes an input and a
per-update context and returns `Screen`s, which a messenger's renderer (Telegram in `handlers/`,
MAX later) turns into messages. No aiogram or maxapi import here (tests/unit/test_channel_neutral.py).
"""
