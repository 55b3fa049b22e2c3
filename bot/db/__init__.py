"""The bot's own database: users, consents and what later features need (not medical data)."""
