"""Bot API methods: each takes the world and the request parameters, returns the result.

`METHODS` maps a lower-case method name to its implementation; the methods themselves live in
`methods_bot.py` (the bot itself) and `methods_messages.py` (messages, callbacks, files).
"""

from __future__ import annotations

from bot.emulator.methods_bot import BOT_METHODS
from bot.emulator.methods_common import Method
from bot.emulator.methods_messages import MESSAGE_METHODS

METHODS: dict[str, Method] = {**BOT_METHODS, **MESSAGE_METHODS}
