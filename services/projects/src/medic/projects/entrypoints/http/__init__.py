"""HTTP API of the projects service, one router per area."""

from fastapi import APIRouter, FastAPI

from . import assessment, milestones, partners, projects, qi_cycles, reports, setup, verification

router = APIRouter()
router.include_router(partners.router)
router.include_router(setup.router)
router.include_router(reports.router)  # before projects: /projects/export.csv is not /projects/{project_id}
router.include_router(projects.router)
router.include_router(verification.router)
router.include_router(milestones.router)
router.include_router(assessment.router)
router.include_router(qi_cycles.router)


def install(app: FastAPI) -> None:
    """Mount every route, and the answer to the domain's refusals."""
    app.include_router(router)
    app.add_exception_handler(projects.Refusal, projects.refusal_response)
