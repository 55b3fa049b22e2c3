"""Per-update resources and cross-cutting checks, registered in bot/factory.py."""
