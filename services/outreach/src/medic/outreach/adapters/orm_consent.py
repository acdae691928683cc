"""Tables of the consent area: the published wording of each scope, version by version.

The consents themselves are the participant's `Stream.CONSENT` history (orm_history.py); the timers' firings share
`watcch_fired_timers`. A text version is inserted once and never updated: a new wording is the next version.
"""

from sqlalchemy import Column, Integer, String, Table, Text

from medic.shared.db import UtcDateTime

from .metadata import metadata

consent_texts = Table(
    "consent_texts",
    metadata,
    Column("scope", String(20), primary_key=True),
    Column("version", Integer, primary_key=True),  # 1, 2, ... per scope
    Column("text", Text, nullable=False),  # the exact wording a participant or guardian agrees to
    Column("published_at", UtcDateTime, nullable=False),
    Column("published_by", String(200), nullable=False),  # the coordinator's user id
)
