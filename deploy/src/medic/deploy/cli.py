"""`medic`: start the whole system locally, and print development tokens."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Annotated

import aio_pika
import typer

from medic.shared.auth import Role, issue_token
from medic.shared.settings import ServiceSettings

app = typer.Typer(help="Social-accountability programmes back end.", no_args_is_help=True)

SERVICES: dict[str, str] = {
    "projects": "PROJECTS_PORT",
    "outreach": "OUTREACH_PORT",
    "notifications": "NOTIFICATIONS_PORT",
}
DEFAULT_PORTS = {"projects": 8001, "outreach": 8002, "notifications": 8003}


def _broker_reachable(url: str) -> str | None:
    async def probe() -> None:
        connection = await aio_pika.connect(url, timeout=3)
        await connection.close()

    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # the message below says it better
    try:
        asyncio.run(probe())
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _port(service: str) -> int:
    return int(os.environ.get(SERVICES[service], DEFAULT_PORTS[service]))


def _wait_ready(processes: dict[str, subprocess.Popen[bytes]], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    pending = set(processes)
    while pending and time.monotonic() < deadline:
        for service in list(pending):
            if processes[service].poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{_port(service)}/readyz", timeout=1) as reply:
                    if reply.status == 200:
                        pending.discard(service)
            except OSError:
                pass
        time.sleep(0.3)
    return not pending


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


@app.command()
def up() -> None:
    """Start all three services against RabbitMQ, each with its own database (SQLite files under var/)."""
    settings = ServiceSettings()
    problem = _broker_reachable(settings.rabbitmq_url)
    if problem is not None:
        typer.echo(
            f"RabbitMQ is not reachable at {_without_password(settings.rabbitmq_url)} ({problem}).\n"
            "Start one, then run this again:\n"
            "  rabbitmq-server -detached                      # RabbitMQ installed on this machine\n"
            "  docker run -d -p 5672:5672 rabbitmq:3.13       # or in a container\n"
            "or point RABBITMQ_URL at a running broker.",
            err=True,
        )
        raise typer.Exit(2)
    Path("var").mkdir(exist_ok=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops the services like Ctrl-C
    processes = {
        # Own process groups: Ctrl-C reaches only this command, which stops each service exactly once
        # (a second SIGINT makes uvicorn abandon its graceful shutdown).
        service: subprocess.Popen([sys.executable, "-m", f"medic.{service}"], start_new_session=True)  # noqa: S603
        for service in SERVICES
    }
    try:
        if not _wait_ready(processes, timeout_s=60):
            typer.echo("A service did not become ready; stopping.", err=True)
            _stop(processes)
            raise typer.Exit(1)
        typer.echo(
            "\nAll services ready:\n"
            + "".join(f"  {s:<14} http://127.0.0.1:{_port(s)}/docs\n" for s in SERVICES)
            + "Get a token with `.venv/bin/medic token --role coordinator`. Ctrl-C stops everything.\n",
            err=True,
        )
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
        exited = [s for s, p in processes.items() if p.poll() is not None]
        typer.echo(f"{', '.join(exited)} stopped; stopping the others.", err=True)
        _stop(processes)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        typer.echo("\nStopping…", err=True)
        _stop(processes)


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Role to grant; repeat for several.")],
    subject: Annotated[str | None, typer.Option(help="The `sub` claim; a random dev id by default.")] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30, help="Lifetime in hours.")] = 8,
) -> None:
    """Print a signed development bearer token (HS256 with JWT_SECRET)."""
    typer.echo(issue_token(ServiceSettings(), roles=role, subject=subject, ttl_s=hours * 3600))


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}:{parts.port or 5672}{parts.path}"
