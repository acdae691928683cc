"""Run one service's HTTP app with uvicorn, logging through structlog."""

import uvicorn
from fastapi import FastAPI

from medic.shared.logging import configure_logging
from medic.shared.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the root handler configure_logging installed
        access_log=False,  # RequestContextMiddleware logs each request once, with its correlation id
        timeout_graceful_shutdown=10,
    )
