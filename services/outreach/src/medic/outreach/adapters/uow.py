from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.repository import KnownPartnerRepository
from medic.shared.uow import UnitOfWork


class OutreachUnitOfWork(UnitOfWork):
    partners: KnownPartnerRepository

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.partners = KnownPartnerRepository(connection)
