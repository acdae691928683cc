from collections.abc import Callable

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from medic.notifications.adapters.directory_repository import DirectoryRepository
from medic.notifications.adapters.emails_repository import EmailsRepository
from medic.notifications.adapters.partner_events_repository import PartnerEventsRepository
from medic.notifications.adapters.repository import EventLogRepository
from medic.notifications.adapters.secret_box import SecretBox
from medic.notifications.adapters.webhook_deliveries_repository import WebhookDeliveriesRepository
from medic.notifications.adapters.webhook_endpoints_repository import WebhookEndpointsRepository
from medic.notifications.domain.directory import Recipient
from medic.shared.logging import get_logger
from medic.shared.uow import UnitOfWork

log = get_logger(__name__)


def _nothing() -> None:
    pass


class NotificationsUnitOfWork(UnitOfWork):
    """One transaction over the notifications tables. Its `after_commit` callbacks run once it has committed: they
    wake the background jobs (log follower, webhook dispatcher, mail sender) for what it has just written."""

    events: EventLogRepository
    partner_events: PartnerEventsRepository
    directory: DirectoryRepository
    emails: EmailsRepository
    # The coordinators' addresses (NOTIFICATIONS_COORDINATOR_EMAILS), set by bootstrap on each unit of work.
    coordinators: tuple[Recipient, ...] = ()
    webhook_deliveries: WebhookDeliveriesRepository
    webhook_endpoints: WebhookEndpointsRepository
    # Set by bootstrap: seals and opens endpoint signing secrets (WEBHOOK_SECRETS_KEY).
    secret_box: SecretBox | None = None

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        outbox: Table | None = None,
        inbox: Table | None = None,
    ) -> None:
        super().__init__(engine, outbox=outbox, inbox=inbox)
        self._after_commit: dict[Callable[[], None], None] = {}  # ordered, each once
        # Set by bootstrap: wakes the webhook dispatcher for deliveries just queued (`after_commit` it).
        self.wake_webhook_dispatcher: Callable[[], None] = _nothing
        # Set by bootstrap: wakes the log follower, which passes what was just logged on to the live streams (it
        # reads them back from the log; `uow.events.add` asks for it after the commit).
        self.wake_log_follower: Callable[[], None] = _nothing
        # Set by bootstrap: wakes the mail sender; `uow.emails.enqueue` asks for it after the commit.
        self.wake_mail_sender: Callable[[], None] = _nothing

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.events = EventLogRepository(connection, on_added=lambda: self.after_commit(self.wake_log_follower))
        self.partner_events = PartnerEventsRepository(connection)
        self.directory = DirectoryRepository(connection)
        self.emails = EmailsRepository(connection, on_queued=lambda: self.after_commit(self.wake_mail_sender))
        self.webhook_deliveries = WebhookDeliveriesRepository(connection)
        self.webhook_endpoints = WebhookEndpointsRepository(connection, self.secret_box)
        self._after_commit = {}

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction has committed (once, however often it is asked): e.g. wake the
        log follower, the webhook dispatcher or the mail sender for the work just queued. Nothing is called on a
        rollback."""
        self._after_commit[callback] = None

    async def commit(self) -> None:
        await super().commit()
        callbacks, self._after_commit = list(self._after_commit), {}
        for callback in callbacks:
            try:
                callback()
            except Exception:  # committed already: a failed wake-up only delays the work until the next poll
                log.exception("uow.after_commit_failed")
