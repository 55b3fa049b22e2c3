"""Notifications: events and appointments in, one outbox row per recipient, paced delivery out.

No aiogram here: the Telegram adapter (`bot/notify_telegram.py`) turns views into messages.
"""
