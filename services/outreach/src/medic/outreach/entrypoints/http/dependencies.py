"""What every router of the outreach API depends on."""

from collections.abc import Callable

from fastapi import Request

from medic.outreach.adapters.uow import OutreachUnitOfWork


def unit_of_work(request: Request) -> OutreachUnitOfWork:
    factory: Callable[[], OutreachUnitOfWork] = request.app.state.uow_factory
    return factory()
