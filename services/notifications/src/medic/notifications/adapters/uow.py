from collections.abc import Callable

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
        self._after_commit: dict[Callable[[], None], None] = {}  # ordered, each once

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.events = EventLogRepository(connection)
        self.recorded = []  # whatever an earlier, uncommitted use recorded was rolled back
        self._after_commit = {}

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction has committed (once, however often it is asked): e.g. wake the
        webhook dispatcher or the mail sender for the work just queued. Nothing is called on a rollback."""
        self._after_commit[callback] = None

    async def commit(self) -> None:
        await super().commit()
        recorded, self.recorded = self.recorded, []
        if recorded and self._broadcaster is not None:
            try:
                self._broadcaster.publish(recorded)
            except Exception:  # the events are committed: a failed push must not redeliver them
                log.exception("stream.broadcast_failed", events=len(recorded))
        callbacks, self._after_commit = list(self._after_commit), {}
        for callback in callbacks:
            try:
                callback()
            except Exception:  # committed already: a failed wake-up only delays the work until the next poll
                log.exception("uow.after_commit_failed")
