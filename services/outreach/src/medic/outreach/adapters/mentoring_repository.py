"""The mentoring area's storage (being built)."""

from sqlalchemy.ext.asyncio import AsyncConnection


class MentoringRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
