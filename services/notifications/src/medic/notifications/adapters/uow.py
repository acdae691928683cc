from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from medic.notifications.adapters.broadcaster import EventBroadcaster
from medic.notifications.adapters.repository import EventLogRepository
from medic.notifications.domain.model import LoggedEvent
from medic.shared.logging import get_logger
from medic.shared.uow import UnitOfWork

log = get_logger(__name__)


class NotificationsUnitOfWork(UnitOfWork):
    """Collects the events logged in this transaction in `recorded`; they go to live streams only on commit."""

    events: EventLogRepository

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        outbox: Table | None = None,
        inbox: Table | None = None,
        broadcaster: EventBroadcaster | None = None,
    ) -> None:
        super().__init__(engine, outbox=outbox, inbox=inbox)
        self._broadcaster = broadcaster
        self.recorded: list[LoggedEvent] = []

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.events = EventLogRepository(connection)
        self.recorded = []  # whatever an earlier, uncommitted use recorded was rolled back

    async def commit(self) -> None:
        await super().commit()
        recorded, self.recorded = self.recorded, []
        if recorded and self._broadcaster is not None:
            try:
                self._broadcaster.publish(recorded)
            except Exception:  # the events are committed: a failed push must not redeliver them
                log.exception("stream.broadcast_failed", events=len(recorded))
