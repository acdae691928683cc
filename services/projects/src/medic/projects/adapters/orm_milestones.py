"""Tables of cohort milestones and of the timers (reminders) the scheduler has fired."""

from sqlalchemy import Column, Date, ForeignKey, String, Table, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

cohort_milestones = Table(
    "cohort_milestones",
    metadata,
    Column("cohort_id", Uuid, ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(30), primary_key=True),  # proposal_due, governance_due, evaluation_due, showcase
    Column("due_on", Date, nullable=False, index=True),
    Column("set_at", UtcDateTime, nullable=False),
)

# One row per timer that fired, written in the transaction that stages its event: the primary key is what makes
# a reminder go out once, across restarts and replicas (a second insert of the same key inserts nothing).
fired_timers = Table(
    "fired_timers",
    metadata,
    Column("key", String(200), primary_key=True),  # e.g. milestone:<project>:<kind>:<due on>:<threshold>
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("fired_at", UtcDateTime, nullable=False),
)
