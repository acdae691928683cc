"""HTTP API of the outreach service, one router per area."""

from fastapi import APIRouter, FastAPI

from . import partners, primary, school_imports, school_partners, schools

router = APIRouter()
router.include_router(partners.router)
router.include_router(schools.router)
router.include_router(school_imports.router)
router.include_router(school_partners.router)
router.include_router(primary.router)


def install(app: FastAPI) -> None:
    app.include_router(router)
