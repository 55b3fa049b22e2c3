"""All routers in one explicit order: errors, the always-open ones, the consent-gated features,
and the catch-all last."""

from __future__ import annotations

from aiogram import Router

from handlers import common, errors, fallback, privacy, start
from handlers.filters import HasConsent


def setup_routers() -> Router:
    root = Router(name="root")
    root.include_routers(errors.router, start.router, common.router, privacy.router)

    gated = Router(name="gated")
    gated.message.filter(HasConsent())
    gated.callback_query.filter(HasConsent())
    # Feature routers (policies, records, appointments, notifications) are included here.
    root.include_router(gated)

    root.include_router(fallback.router)
    return root
