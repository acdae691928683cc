"""Run one service's HTTP app with uvicorn, logging through structlog, and stop it gracefully however asked."""

import os
import signal
import stat
import sys
import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from medic.shared.logging import configure_logging, get_logger
from medic.shared.settings import ServiceSettings

log = get_logger(__name__)

# Set by `medic up`: a file descriptor open on the read end of a pipe that only `medic up` can write to.
# Reading end of file there means `medic up` is gone (even SIGKILLed), and the service stops as if told to.
PARENT_LIFELINE_ENV = "MEDIC_PARENT_LIFELINE_FD"
# Open HTTP requests get this long to finish once a stop begins; then the lifespan shutdown stops the
# consumer (its own timeout) and the relay, and releases the database.
HTTP_GRACEFUL_TIMEOUT_S = 10


class GracefulServer(uvicorn.Server):
    """Every stop signal means the same graceful stop; a repeated one changes nothing.

    uvicorn force-exits on a second SIGINT, skipping the lifespan shutdown (the consumer's batch in hand,
    the relay, the database), and re-raises the signal once stopped, which ends the process with a
    traceback or a kill status. A requested stop that completed exits 0.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.should_exit = True  # uvicorn logs "Shutting down" when it acts on this


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the root handler configure_logging installed
        access_log=False,  # RequestContextMiddleware logs each request once, with its correlation id
        timeout_graceful_shutdown=HTTP_GRACEFUL_TIMEOUT_S,
    )
    server = GracefulServer(config)
    _stop_when_parent_exits()
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _stop_when_parent_exits() -> None:
    """If started by `medic up`, send ourselves SIGTERM once it is gone, whatever ended it."""
    value = os.environ.pop(PARENT_LIFELINE_ENV, None)  # popped: nothing this process starts inherits it
    if value is None:
        return
    fd = int(value)
    if not stat.S_ISFIFO(os.fstat(fd).st_mode):
        raise RuntimeError(f"{PARENT_LIFELINE_ENV}={value} is not a pipe")

    def watch() -> None:
        while os.read(fd, 64):  # the parent never writes; this returns b"" once its end is closed
            pass
        log.warning("service.parent_gone")
        os.kill(os.getpid(), signal.SIGTERM)  # the same path as any stop signal

    threading.Thread(target=watch, name="parent-lifeline", daemon=True).start()
