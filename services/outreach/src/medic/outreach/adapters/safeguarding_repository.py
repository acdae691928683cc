"""The safeguarding area's storage (being built)."""

from sqlalchemy.ext.asyncio import AsyncConnection


class SafeguardingRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
