from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.assessment_repository import AssessmentRepository
from medic.projects.adapters.partners_repository import PartnerRepository
from medic.projects.adapters.projects_repository import ProjectRepository
from medic.projects.adapters.setup_repository import SetupRepository
from medic.projects.adapters.verification_repository import VerificationRepository
from medic.shared.uow import UnitOfWork


class ProjectsUnitOfWork(UnitOfWork):
    partners: PartnerRepository
    setup: SetupRepository
    projects: ProjectRepository
    verifications: VerificationRepository
    assessment: AssessmentRepository

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.partners = PartnerRepository(connection)
        self.setup = SetupRepository(connection)
        self.projects = ProjectRepository(connection)
        self.verifications = VerificationRepository(connection)
        self.assessment = AssessmentRepository(connection)
