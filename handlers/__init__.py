"""All routers in one explicit order: errors, the always-open ones (including block/unblock and
the owner's revoking of access to their card), the consent-gated features, and the catch-all
last."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    access_owner,
    appointments,
    common,
    errors,
    fallback,
    membership,
    my_appointments,
    notifications,
    people,
    policies,
    privacy,
    records,
    start,
    watches,
)
from handlers.filters import HasConsent


def _fresh(template: Router) -> Router:
    """A new Router carrying the template's handlers, filters and middlewares.

    The module-level routers are templates and are never attached themselves: aiogram lets a
    router have one parent only, so attaching them would make `create_dispatcher` work once per
    process (tests, the emulator and a second replica in one process each build their own).
    """
    router = Router(name=template.name)
    for name, observer in template.observers.items():
        target = router.observers[name]
        target.handlers.extend(observer.handlers)
        target.filter(*(item.callback for item in observer._handler.filters or ()))
        for middleware in observer.outer_middleware:
            target.outer_middleware.register(middleware)
        for middleware in observer.middleware:
            target.middleware.register(middleware)
    router.startup.handlers.extend(template.startup.handlers)
    router.shutdown.handlers.extend(template.shutdown.handlers)
    for sub_router in template.sub_routers:
        router.include_router(_fresh(sub_router))
    return router


def setup_routers() -> Router:
    root = Router(name="root")
    root.include_routers(*(_fresh(r) for r in (errors.router, start.router, common.router)))
    root.include_router(_fresh(privacy.router))
    # The owner's revoke buttons (and the list "My data" opens) are open too: taking back access
    # to one's own card must work after withdrawing consent (152-FZ). Each press is still
    # authorized: the grant is looked up in the presser's own list, which the backend gives
    # only to the card's owner.
    root.include_router(_fresh(access_owner.open_router))
    # Block/unblock (`my_chat_member`) is open: it only records whether the chat can be written
    # to, for users with or without consent, and sends nothing.
    root.include_router(_fresh(membership.router))

    gated = Router(name="gated")
    gated.message.filter(HasConsent())
    gated.callback_query.filter(HasConsent())
    # Feature routers (policies, records, appointments, notifications) are included here,
    # each as `_fresh(feature.router)`.
    gated.include_routers(
        *(
            _fresh(r)
            for r in (
                policies.router,
                people.router,
                access_owner.router,
                records.router,
                appointments.router,
                my_appointments.router,
                watches.router,
                notifications.router,
            )
        )
    )
    root.include_router(gated)

    root.include_router(_fresh(fallback.router))
    return root
