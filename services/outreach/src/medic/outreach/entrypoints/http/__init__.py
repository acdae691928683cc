"""HTTP API of the outreach service, one router per area."""

from fastapi import APIRouter, FastAPI

from . import (
    activities,
    area_indicators,
    consent,
    erasure,
    mentoring,
    outcomes,
    partners,
    primary,
    reports,
    safeguarding,
    school_imports,
    school_partners,
    schools,
    surveys,
    watcch,
)

router = APIRouter()
router.include_router(partners.router)
router.include_router(schools.router)
router.include_router(school_imports.router)
router.include_router(school_partners.router)
router.include_router(primary.router)
router.include_router(area_indicators.router)
router.include_router(watcch.router)
router.include_router(activities.router)
router.include_router(surveys.router)
router.include_router(outcomes.router)
router.include_router(reports.router)
router.include_router(safeguarding.router)
router.include_router(consent.router)
router.include_router(mentoring.router)
router.include_router(erasure.router)


def install(app: FastAPI) -> None:
    app.include_router(router)
