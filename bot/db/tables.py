"""Imports every model module so that `Base.metadata` knows all tables (Alembic, tests).

Each feature keeps its tables in its own module and adds one import line here.
"""

from bot.db import (
    appointments_models,  # noqa: F401
    lookup_models,  # noqa: F401
    models,  # noqa: F401
    notifications_models,  # noqa: F401
    records_models,  # noqa: F401
)
