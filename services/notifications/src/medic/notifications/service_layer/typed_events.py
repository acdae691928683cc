"""Reading an event a reaction handles as its contract, one way for every reaction.

An event that does not validate against its contract is logged by id and type only (the validation error's text
would quote the data: names, addresses, links) and skipped: the ops log has it already, and retrying cannot mend it
(the publisher's contract tests are where it is fixed).
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.shared.events import RawEnvelope
from medic.shared.logging import get_logger

log = get_logger(__name__)

Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[Any, RawEnvelope, NotificationsUnitOfWork], Awaitable[None]]
# Event type -> (its contract, what to do with it).
HandlerTable = Mapping[str, tuple[type[BaseModel], Handler]]


def read(model: type[Model], data: dict[str, Any], envelope: RawEnvelope, *, area: str) -> Model | None:
    """The event as its contract; None (logged as `<area>.unreadable_event`) if it is not one."""
    try:
        return model.model_validate(data)
    except ValidationError:
        log.warning(f"{area}.unreadable_event", type=envelope.type, event_id=str(envelope.id))
        return None


async def dispatch(
    table: HandlerTable, data: dict[str, Any], envelope: RawEnvelope, uow: NotificationsUnitOfWork, *, area: str
) -> None:
    """Hand the event, read as its contract, to its handler in `table`; an event the table does not name is not
    this reaction's."""
    found = table.get(envelope.type)
    if found is None:
        return
    model, handler = found
    event = read(model, data, envelope, area=area)
    if event is not None:
        await handler(event, envelope, uow)
