"""The consent area's storage (being built)."""

from sqlalchemy.ext.asyncio import AsyncConnection


class ConsentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
