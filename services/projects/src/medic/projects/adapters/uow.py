from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.repository import PartnerRepository
from medic.shared.uow import UnitOfWork


class ProjectsUnitOfWork(UnitOfWork):
    partners: PartnerRepository

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.partners = PartnerRepository(connection)
