"""Several OS processes of every service, `python -m medic.<service>`, behind nothing but their own ports.

All replicas of a service share one PostgreSQL database and the broker namespace, as replicas in production
do. Each process writes its JSON log lines to a file of its own. A process holds the read end of a pipe whose
write end only the test process has: when the test process dies, however it dies, the services read end-of-file
there and stop themselves (medic.shared.serve's parent lifeline), so none outlives a crashed test run.
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from medic.shared.serve import PARENT_LIFELINE_ENV
from tests.infra import delete_broker_namespace, free_port, fresh_database_url
from tests.make_run import MAKE_VARIABLES, SERVICES
from tests.support import FAST_FAILURE_HANDLING

READY_TIMEOUT_S = 120
# A service's own graceful stop is bounded (open HTTP requests 10 s, then the consumer's batch and the relay).
STOP_TIMEOUT_S = 30

# Timers that look often, for tests that wait for one to fire (pass as `extra_env`).
FAST_TIMERS = {
    "REMINDER_INTERVAL_S": "0.5",
    "OUTREACH_WATCCH_OFFER_EXPIRY_INTERVAL_S": "0.5",
    "OUTREACH_MENTORING_RECHECK_INTERVAL_S": "0.5",
    "OUTREACH_SAFEGUARDING_TIMERS_INTERVAL_S": "0.5",
    "OUTREACH_CONSENT_EXPIRY_INTERVAL_S": "0.5",
    "OUTREACH_RETENTION_SWEEP_INTERVAL_S": "0.5",
    "WEBHOOK_POLL_INTERVAL_S": "0.3",
    "MAIL_POLL_INTERVAL_S": "0.3",
}


class ServiceProcess:
    """One replica of one service: started, stopped and restarted on the same port, log file and database."""

    def __init__(self, service: str, index: int, port: int, env: Mapping[str, str], log_path: Path) -> None:
        self.service = service
        self.index = index
        self.port = port
        self.env = dict(env)
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self._terminated = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self} was never started"
        return self.popen.pid

    def __repr__(self) -> str:
        return f"<{self.service}[{self.index}] :{self.port}>"

    def start(self, lifeline: int) -> None:
        """Start the process (again), appending to its log; `lifeline` is the read end of the parent's pipe."""
        assert not self.alive(), f"{self} is already running"
        with self.log_path.open("ab") as output:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", f"medic.{self.service}"],
                cwd=self.log_path.parent,  # any relative path a service writes to stays in the test's directory
                env={**self.env, PARENT_LIFELINE_ENV: str(lifeline)},
                pass_fds=(lifeline,),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # signals reach it only from here, once each
            )
        self._terminated = False

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def terminate(self) -> None:
        """Send SIGTERM once per run: a second one, arriving after the server restored the default handlers
        on its way out, would end the process by the signal instead of its own clean exit."""
        if self.alive() and not self._terminated:
            assert self.popen is not None
            self.popen.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL after `timeout_s`; returns the exit code (None if never started)."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.terminate()
            try:
                self.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait()

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def records(self) -> Iterator[dict[str, Any]]:
        """The process's JSON log lines so far (all its runs), skipping anything else it printed."""
        if not self.log_path.exists():
            return
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):  # a line being written
                    record: dict[str, Any] = json.loads(line)
                    yield record

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class ReplicaSet:
    """`replicas` processes of each of the three services, each on its own free port, logs under `directory`."""

    def __init__(
        self,
        directory: Path,
        *,
        rabbitmq_urls: Sequence[str],
        namespace: str,
        database_urls: Mapping[str, str],
        replicas: int = 2,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        assert rabbitmq_urls, "at least one broker address"
        assert set(database_urls) >= set(SERVICES), f"a database URL for each of {SERVICES}"
        self.directory = directory
        self.namespace = namespace
        self.database_urls = dict(database_urls)
        self.mail_dir = directory / "mail"
        self._lifeline: tuple[int, int] | None = None
        ports = {service: [free_port() for _ in range(replicas)] for service in SERVICES}
        base_env = {
            **{name: value for name, value in os.environ.items() if name not in MAKE_VARIABLES},
            **FAST_FAILURE_HANDLING,
            "RABBITMQ_URL": rabbitmq_urls[0],
            "RABBITMQ_URLS": ",".join(rabbitmq_urls),
            "BROKER_NAMESPACE": namespace,
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
            # Six processes share the machine's PostgreSQL (max_connections 100) with the test itself: as in any
            # deployment, replicas x (pool + overflow) must stay under it.
            "DATABASE_POOL_SIZE": "5",
            "DATABASE_MAX_OVERFLOW": "5",
            **{f"{service.upper()}_DATABASE_URL": database_urls[service] for service in SERVICES},
            "NOTIFICATIONS_MAIL_DIR": str(self.mail_dir),
            "NOTIFICATIONS_PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['notifications'][0]}",
            "VERIFICATION_LINK_BASE_URL": f"http://127.0.0.1:{ports['projects'][0]}/verifications/",
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_ALLOW_LOOPBACK": "true",
            **(extra_env or {}),
        }
        self._processes = {
            service: [
                ServiceProcess(
                    service,
                    index,
                    port,
                    {**base_env, f"{service.upper()}_PORT": str(port)},
                    directory / f"{service}-{index}.log",
                )
                for index, port in enumerate(ports[service])
            ]
            for service in SERVICES
        }

    def all(self) -> list[ServiceProcess]:
        return [process for service in SERVICES for process in self._processes[service]]

    def processes(self, service: str) -> list[ServiceProcess]:
        return list(self._processes[service])

    def urls(self, service: str) -> list[str]:
        return [process.url for process in self._processes[service]]

    def records(self, service: str, index: int) -> Iterator[dict[str, Any]]:
        return self._processes[service][index].records()

    @property
    def lifeline(self) -> int:
        """The read end of the pipe the processes watch (created on first use, closed by `stop`)."""
        if self._lifeline is None:
            self._lifeline = os.pipe()  # both ends non-inheritable: only the read end is passed on, explicitly
        return self._lifeline[0]

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start every process that is not running, and wait until each answers /readyz with 200."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.mail_dir.mkdir(exist_ok=True)
        for process in self.all():
            if not process.alive():
                process.start(self.lifeline)
        self.wait_ready(self.all(), timeout_s)

    def wait_ready(self, processes: Sequence[ServiceProcess], timeout_s: float = READY_TIMEOUT_S) -> None:
        pending = list(processes)
        deadline = time.monotonic() + timeout_s
        while pending:
            exited = [process for process in pending if not process.alive()]
            if exited or time.monotonic() > deadline:
                self.stop()
                problem = "exited" if exited else f"not ready within {timeout_s:.0f}s"
                tails = "\n\n".join(f"{p!r}:\n{p.tail()}" for p in exited or pending)
                raise AssertionError(f"replicas {problem}: {exited or pending}\n{tails}")
            pending = [process for process in pending if not process.ready()]
            if pending:
                time.sleep(0.2)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM every process at once, wait, kill the ones still running; closes the lifeline. Idempotent."""
        running = [process for process in self.all() if process.alive()]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + timeout_s
        for process in running:
            process.stop(timeout_s=max(0.0, deadline - time.monotonic()))
        if self._lifeline is not None:
            for fd in self._lifeline:
                os.close(fd)
            self._lifeline = None


@contextlib.asynccontextmanager
async def postgres_databases(directory: Path) -> AsyncIterator[dict[str, str]]:
    """A fresh PostgreSQL database per service (service -> URL), dropped afterwards."""
    async with contextlib.AsyncExitStack() as stack:
        yield {
            service: await stack.enter_async_context(fresh_database_url("postgresql", directory, service))
            for service in SERVICES
        }


@contextlib.asynccontextmanager
async def running_replicas(
    directory: Path,
    *,
    rabbitmq_urls: Sequence[str],
    namespace: str | None = None,
    replicas: int = 2,
    extra_env: Mapping[str, str] | None = None,
) -> AsyncIterator[ReplicaSet]:
    """Fresh databases, a started ReplicaSet on them (a unique namespace unless given), and everything
    cleaned up afterwards: processes stopped, databases dropped, the namespace's queues deleted."""
    namespace = namespace or f"t-{uuid.uuid4().hex[:10]}"
    async with postgres_databases(directory) as database_urls:
        replica_set = ReplicaSet(
            directory,
            rabbitmq_urls=rabbitmq_urls,
            namespace=namespace,
            database_urls=database_urls,
            replicas=replicas,
            extra_env=extra_env,
        )
        try:
            await asyncio.to_thread(replica_set.start)
            yield replica_set
        finally:
            await asyncio.to_thread(replica_set.stop)
            await delete_broker_namespace(rabbitmq_urls, namespace, SERVICES)
