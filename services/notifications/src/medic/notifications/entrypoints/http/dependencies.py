"""What every route of the service asks for: its unit of work."""

from collections.abc import Callable

from fastapi import Request

from medic.notifications.adapters.uow import NotificationsUnitOfWork


def unit_of_work(request: Request) -> NotificationsUnitOfWork:
    factory: Callable[[], NotificationsUnitOfWork] = request.app.state.uow_factory
    return factory()
