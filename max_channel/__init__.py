"""The MAX front end: the same flows (`bot.flows`) as Telegram, rendered with `maxapi`.

| module | what it holds |
|---|---|
| `keyboard.py` | a screen's buttons (and the main menu, which MAX can only show inline) |
| `render.py` | `MaxAnswer`: one update's screens as MAX messages, edits and callback answers |
| `turn.py` | one update: the user's row, language, memory, per-user order, honest errors |
| `dispatcher.py` | the maxapi `Dispatcher`: `bot_started`, messages, contacts and presses |

What MAX lacks and what the bot does instead: no reply keyboard (the main menu is inline
buttons under the message that shows it), contact sharing only as an inline button, 4,000
characters a message (longer screens are split at line breaks), one file per message, and no
protect_content — MAX cannot stop a message being forwarded, so medical messages go as they
are and the consent text and /privacy say that the chat holds what the user asked to see.
"""
