from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.activities_repository import ActivityRepository
from medic.outreach.adapters.area_indicators_repository import AreaIndicatorRepository
from medic.outreach.adapters.consent_repository import ConsentRepository
from medic.outreach.adapters.erasure_repository import ErasureRepository
from medic.outreach.adapters.history_repository import HistoryRepository
from medic.outreach.adapters.mentoring_repository import MentoringRepository
from medic.outreach.adapters.outcomes_repository import OutcomeRepository
from medic.outreach.adapters.partners_repository import KnownPartnerRepository
from medic.outreach.adapters.primary_repository import PrimaryRepository
from medic.outreach.adapters.reports_repository import ReportRepository
from medic.outreach.adapters.safeguarding_repository import SafeguardingRepository
from medic.outreach.adapters.schools_repository import SchoolRepository
from medic.outreach.adapters.surveys_repository import SurveyRepository
from medic.outreach.adapters.watcch_repository import WatcchRepository
from medic.outreach.domain.policies import Policies
from medic.shared.uow import UnitOfWork


class OutreachUnitOfWork(UnitOfWork):
    activities: ActivityRepository
    area_indicators: AreaIndicatorRepository
    consent: ConsentRepository
    erasure: ErasureRepository
    history: HistoryRepository
    mentoring: MentoringRepository
    outcomes: OutcomeRepository
    partners: KnownPartnerRepository
    primary: PrimaryRepository
    reports: ReportRepository
    safeguarding: SafeguardingRepository
    schools: SchoolRepository
    surveys: SurveyRepository
    watcch: WatcchRepository

    def __init__(self, *args: Any, policies: Policies | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policies = policies or Policies()

    def _open_repositories(self, connection: AsyncConnection) -> None:
        self.activities = ActivityRepository(connection)
        self.area_indicators = AreaIndicatorRepository(connection)
        self.consent = ConsentRepository(connection)
        self.erasure = ErasureRepository(connection)
        self.history = HistoryRepository(connection)
        self.mentoring = MentoringRepository(connection)
        self.outcomes = OutcomeRepository(connection)
        self.partners = KnownPartnerRepository(connection)
        self.primary = PrimaryRepository(connection)
        self.reports = ReportRepository(connection)
        self.safeguarding = SafeguardingRepository(connection)
        self.schools = SchoolRepository(connection)
        self.surveys = SurveyRepository(connection)
        self.watcch = WatcchRepository(connection)
