"""`medic`: start the whole system locally, and print development tokens."""

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Annotated
from urllib.parse import urlsplit

import typer

from medic.shared.auth import Role, issue_token
from medic.shared.broker_connection import BrokerUnreachable, reachable
from medic.shared.serve import PARENT_LIFELINE_ENV
from medic.shared.settings import ServiceSettings

app = typer.Typer(help="Social-accountability programmes back end.", no_args_is_help=True)

SERVICES: dict[str, str] = {
    "projects": "PROJECTS_PORT",
    "outreach": "OUTREACH_PORT",
    "notifications": "NOTIFICATIONS_PORT",
}
DEFAULT_PORTS = {"projects": 8001, "outreach": 8002, "notifications": 8003}
# SIGHUP: the terminal was closed.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
READY_TIMEOUT_S = 60
# A service's own graceful stop is bounded (open HTTP requests 10 s, then the consumer's batch in hand and
# the relay); one still running after this is killed, and the broker requeues what it had not acked.
STOP_TIMEOUT_S = 30


def _broker_reachable(urls: Sequence[str]) -> str | None:
    """None if some node of the broker answers, else what each one said (never a password)."""
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # the message below says it better
    try:
        asyncio.run(reachable(urls, timeout_s=3))
    except BrokerUnreachable as error:
        return str(error)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _port(service: str) -> int:
    return int(os.environ.get(SERVICES[service], DEFAULT_PORTS[service]))


class StopRequest:
    """Remembers that a stop signal came. Signals only set this flag, so any number of them, in any order
    (Ctrl-C twice; a supervisor's SIGTERM to the whole group, which uv also forwards), start one orderly stop
    and never interrupt it halfway."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def install(self) -> None:
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, self)


class Job:
    """What this command was started as part of: its process group (make, uv and this command under
    `make run`) and, if any, the terminal. Gone when the group's leader is, or when the terminal is.

    make passes a SIGTERM on to its recipe, but when make alone dies otherwise (SIGKILL, the OOM killer) this
    command and the services would keep running with nobody above them. A group's id is never reused while
    the group exists, so a new process that happens to get the leader's pid cannot fool the check. When the
    terminal goes away (a closed window, a dropped `ssh -t`), the kernel signals only the session's leader,
    which may be make, which passes a SIGHUP on to nobody.
    """

    def __init__(self) -> None:
        self.leader = os.getpgrp()
        self.in_terminal = _has_controlling_terminal()

    def gone(self) -> bool:
        if self.in_terminal and not _has_controlling_terminal():
            return True
        if self.leader == os.getpid():
            return False
        try:
            os.kill(self.leader, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def _has_controlling_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _start(service: str, lifeline: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", f"medic.{service}"],
        # Its own session: a signal to `make run`'s process group (Ctrl-C, a supervisor) reaches only this
        # command, which stops each service exactly once.
        start_new_session=True,
        # The read end of a pipe only this process can write to: the service stops when it reads end of file,
        # i.e. when this process is gone, even if it was SIGKILLed and could stop nothing itself.
        pass_fds=(lifeline,),
        env={**os.environ, PARENT_LIFELINE_ENV: str(lifeline)},
    )


def _ready(service: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{_port(service)}/readyz", timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def _supervise(processes: dict[str, subprocess.Popen[bytes]], stop: StopRequest, job: Job) -> int:
    """Wait for readiness, then until a stop is requested or the job is gone (0), or a service exits (1)."""
    pending = set(processes)
    ready_by = time.monotonic() + READY_TIMEOUT_S
    while not stop.requested and not job.gone():
        exited = [service for service, process in processes.items() if process.poll() is not None]
        if exited:
            _say(f"{', '.join(exited)} stopped; stopping the others.")
            return 1
        if pending:
            pending = {service for service in pending if not _ready(service)}
            if not pending:
                _say(
                    "\nAll services ready:\n"
                    + "".join(f"  {s:<14} http://127.0.0.1:{_port(s)}/docs\n" for s in SERVICES)
                    + "Get a token with `.venv/bin/medic token --role coordinator`. Ctrl-C stops everything.\n"
                    + _where_emails_go()
                )
            elif time.monotonic() > ready_by:
                _say("A service did not become ready; stopping.")
                return 1
        time.sleep(0.3)
    return 0


def _where_emails_go() -> str:
    """The notifications service's mail setting as it reads it (SMTP_URL), without credentials."""
    smtp_url = os.environ.get("SMTP_URL")
    if not smtp_url:
        mail_dir = os.environ.get("NOTIFICATIONS_MAIL_DIR", "var/mail").rstrip("/")
        return f"Emails are written as .eml files under {mail_dir}/ (set SMTP_URL to send them by SMTP).\n"
    parts = urlsplit(smtp_url)
    return f"Emails are sent by SMTP through {parts.scheme}://{parts.netloc.rpartition('@')[2]}.\n"


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """Ask every service to stop, once, and wait for them; kill any still running after STOP_TIMEOUT_S."""
    running = [process for process in processes.values() if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _say(message: str) -> None:
    """Tell the user, if anyone is listening: after the terminal is closed, writing fails."""
    with contextlib.suppress(OSError):
        typer.echo(message, err=True)


@app.command()
def up() -> None:
    """Start all three services against RabbitMQ, each with its own database (SQLite files under var/).

    Stops them all, gracefully, on SIGINT, SIGTERM or SIGHUP, or when the job it belongs to (make, uv, the
    terminal) is gone; the services also stop on their own if this command is killed outright.
    """
    stop = StopRequest()
    stop.install()
    job = Job()
    settings = ServiceSettings()
    problem = _broker_reachable(settings.rabbitmq_urls)
    if problem is not None:
        typer.echo(
            f"RabbitMQ is not reachable: {problem}.\n"
            "Start one, then run this again:\n"
            "  rabbitmq-server -detached                      # RabbitMQ installed on this machine\n"
            "  docker run -d -p 5672:5672 rabbitmq:3.13       # or in a container\n"
            "or point RABBITMQ_URL (or RABBITMQ_URLS, a cluster's nodes, comma-separated) at a running broker.",
            err=True,
        )
        raise typer.Exit(2)
    if stop.requested:
        return
    Path("var").mkdir(exist_ok=True)
    # The write end is never written to nor closed here: it closes when this process ends, however it ends.
    lifeline, _ = os.pipe()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for service in SERVICES:
            processes[service] = _start(service, lifeline)
        os.close(lifeline)
        outcome = _supervise(processes, stop, job)
    finally:
        _say("\nStopping…")
        _stop(processes)
        _say("Stopped.")
    if outcome:
        raise typer.Exit(outcome)


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Role to grant; repeat for several.")],
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            "--subject",
            help="The user's id (the `sub` claim), as their records name them: a student's university id, a "
            "supervisor's or partner user's user id. A random dev id by default.",
        ),
    ] = None,
    partner: Annotated[
        uuid.UUID | None,
        typer.Option("--partner", help="For --role partner: the partner organisation's id (the `org` claim)."),
    ] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30, help="Lifetime in hours.")] = 8,
) -> None:
    """Print a signed development bearer token (HS256 with JWT_SECRET)."""
    if Role.PARTNER in role and partner is None:
        raise typer.BadParameter("a partner user's token needs --partner PARTNER_ID", param_hint="--partner")
    typer.echo(issue_token(ServiceSettings(), roles=role, subject=user, organisation_id=partner, ttl_s=hours * 3600))
