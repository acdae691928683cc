"""A three-node RabbitMQ cluster on this machine, from the installed rabbitmq-server, for the failover tests.

Each node has its own name, AMQP and distribution ports, data and log directories and no plugins, like
tests/infra.py's LocalNodeBroker; they share the Erlang cookie of the `rabbitmq` user (the one every local
node gets), which is what lets them cluster. Nodes 2 and 3 join node 1 with `rabbitmqctl join_cluster`.
Everything is stopped and deleted at the end, whatever happened; and as detached nodes outlive a test process
killed outright, a cluster's start first kills the nodes of any earlier run whose test process is gone.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.infra import free_port, local_node_environment

CTL_TIMEOUT_S = 60
QUEUE_FIELDS = ("name", "type", "leader", "members", "online", "arguments", "messages", "consumers")
# This harness's node names, which carry the test process's pid (and nothing else's names look like them).
NODE_NAME = re.compile(r"medic-c\d+-(?P<owner>\d+)-[0-9a-f]{8}@localhost")


@dataclass
class Node:
    name: str  # e.g. medic-c1-4242-1a2b3c4d@localhost: node 1 of test process 4242's cluster
    port: int
    directory: Path
    env: dict[str, str] = field(default_factory=dict)  # what rabbitmq-server was started with

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"


def ctl(node: str, *args: str, timeout_s: float = CTL_TIMEOUT_S) -> str:
    """Run rabbitmqctl against one node; raises with its output if it fails."""
    command = ["rabbitmqctl", "-n", node, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {result.returncode}\n{result.stdout}{result.stderr}")
    return result.stdout


class RabbitCluster:
    def __init__(self, size: int = 3) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="medic-cluster-"))
        self.directory.chmod(0o755)  # the nodes run as the `rabbitmq` user, which must reach their directories
        token = uuid.uuid4().hex[:8]
        self.nodes = [
            Node(f"medic-c{index}-{os.getpid()}-{token}@localhost", free_port(), self.directory / f"node{index}")
            for index in range(1, size + 1)
        ]
        self._started: list[Node] = []

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def start(self) -> None:
        """Start every node, then cluster nodes 2.. with node 1; tears down what it started if it fails."""
        try:
            stop_stale_nodes()
            for node in self.nodes:
                self._launch(node)
            for node in self.nodes:
                self.await_startup(node)
            first = self.nodes[0]
            for node in self.nodes[1:]:
                ctl(node.name, "stop_app")
                ctl(node.name, "join_cluster", first.name)
                ctl(node.name, "start_app")
                self.await_startup(node)
            running = self.running_nodes(first)
            assert set(running) == {node.name for node in self.nodes}, running
        except BaseException:
            self.shutdown()
            raise

    def _launch(self, node: Node) -> None:
        node.directory.mkdir(parents=True)
        node.env = local_node_environment(node.name, node.port, node.directory)
        self._started.append(node)
        self._run_server(node)

    def _run_server(self, node: Node) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=node.env, check=True, capture_output=True, timeout=60)

    def await_startup(self, node: Node, timeout_s: float = 90) -> None:
        # Until the node has registered with epmd, await_startup fails at once instead of waiting.
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                ctl(node.name, "await_startup", "--timeout", "30")
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def running_nodes(self, via: Node) -> list[str]:
        out = ctl(via.name, "eval", "rabbit_nodes:all_running().")
        return [name.strip(" '[]\n") for name in out.strip().strip("[]").split(",") if name.strip(" '[]\n")]

    def stop_app(self, node: Node) -> None:
        ctl(node.name, "stop_app")

    def start_app(self, node: Node) -> None:
        ctl(node.name, "start_app")
        self.await_startup(node)

    def kill(self, node: Node) -> None:
        """End the node's VM with SIGKILL, as a crash or a lost machine would; returns once it is gone."""
        pid = _pid(node)
        if not _is_node(pid, node.name):
            raise RuntimeError(f"{node.name} is not running (pid {pid} is not its VM)")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _is_node(pid, node.name):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{node.name} (pid {pid}) still running after SIGKILL")
            time.sleep(0.1)

    def relaunch(self, node: Node) -> None:
        """Start a killed node's VM again, on its data: it rejoins the cluster by itself."""
        self._run_server(node)
        self.await_startup(node)

    def watch_leader(self, queue: str, *, old: str, via: Node, timeout_s: float = 60) -> "LeaderWatch":
        """Start watching, from inside node `via`, for `queue` to be led by a node other than `old`.

        The loop runs in the broker (one `rabbitmqctl eval`), polling the queue's record every 20 ms: the
        CLI's own start-up, a second or more, would otherwise blur the time of the election."""
        code = (
            f'R = rabbit_misc:r(<<"/">>, queue, <<"{queue}">>), '
            "W = fun Loop(0) -> timeout; Loop(N) -> "
            "case rabbit_amqqueue:lookup(R) of "
            "{ok, Q} -> case amqqueue:get_pid(Q) of "
            f"{{_, L}} when L =/= '{old}' -> {{L, os:system_time(millisecond)}}; "
            "_ -> timer:sleep(20), Loop(N - 1) end; "
            "_ -> timer:sleep(20), Loop(N - 1) end end, "
            f"W({int(timeout_s * 50)})."
        )
        process = subprocess.Popen(
            ["rabbitmqctl", "-n", via.name, "eval", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        return LeaderWatch(process, timeout_s)

    def heal(self) -> None:
        """Start again any node that was killed, and the application on any node where it is stopped."""
        for node in self.nodes:
            if not _is_node(_pid(node), node.name):
                self.relaunch(node)
            elif not self.app_running(node):
                self.start_app(node)

    def app_running(self, node: Node) -> bool:
        try:
            return "true" in ctl(node.name, "eval", "rabbit:is_running().", timeout_s=20)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False

    def queue_info(self, queue: str) -> dict[str, Any]:
        """A queue's name, type, leader, members, online members and arguments, asked of any running node."""
        problems = []
        for node in self.nodes:
            try:
                out = ctl(node.name, "list_queues", "-q", "--formatter", "json", *QUEUE_FIELDS, timeout_s=20)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                problems.append(str(error).splitlines()[0])
                continue
            for info in json.loads(out):
                if info["name"] == queue:
                    return dict(info)
        raise LookupError(f"no running node knows queue {queue}: {problems}")

    def queue_leader(self, queue: str) -> str:
        return str(self.queue_info(queue)["leader"])

    def queue_members(self, queue: str) -> list[str]:
        return list(self.queue_info(queue)["members"])

    def queue_type(self, queue: str) -> str:
        return str(self.queue_info(queue)["type"])

    def queue_arguments(self, queue: str) -> dict[str, Any]:
        return {name: value for name, _type, value in self.queue_info(queue)["arguments"]}

    def shutdown(self) -> None:
        """Stop every node this started (the VM too) and delete their directories."""
        for node in reversed(self._started):
            try:
                ctl(node.name, "stop", timeout_s=60)
            except Exception:
                _kill_node(node)
        self._started.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class LeaderWatch:
    process: "subprocess.Popen[str]"
    timeout_s: float

    def result(self) -> tuple[str, float]:
        """The new leader, and when (epoch seconds) the broker first recorded it."""
        try:
            output, _ = self.process.communicate(timeout=self.timeout_s + 30)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        found = re.search(r"\{'?([^',{}]+)'?,(\d+)\}", output)
        if self.process.returncode != 0 or found is None:
            raise AssertionError(f"no new leader: {output}")
        return found.group(1), int(found.group(2)) / 1000

    def stop(self) -> None:
        """End the watch if it is still running (the test failed before its result). Idempotent."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def _pid(node: Node) -> int:
    """The node's VM, from the pid file it writes at start."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return int((node.directory / "pid").read_text().strip())
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _environment(pid: int) -> dict[str, str]:
    """A process's environment as it was started ({} if it is gone, a zombie, or not ours to read)."""
    try:
        entries = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return {}
    return {key: value for key, _, value in (entry.partition("=") for entry in entries) if key}


def _arguments(pid: int) -> list[str]:
    """A process's command line ([] if it is gone, or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return []
    return text.split("\0")[:-1]  # each argument ends with a NUL


def _is_node(pid: int, name: str) -> bool:
    """Whether process `pid` is node `name`'s VM, not another process that has the pid of a VM that died.

    The node's name is in the VM's command line on some RabbitMQ versions; on others (3.12 on), only in its
    environment, as RABBITMQ_NODENAME."""
    return name in _arguments(pid) or _environment(pid).get("RABBITMQ_NODENAME") == name


def _kill_node(node: Node) -> None:
    with contextlib.suppress(OSError, ValueError):
        pid = int((node.directory / "pid").read_text().strip())
        if _is_node(pid, node.name):
            os.kill(pid, signal.SIGKILL)


def stop_stale_nodes() -> None:
    """Kill the nodes an earlier run left (its test process killed outright, so no shutdown) and delete their
    directories: only this harness's nodes (NODE_NAME) whose test process is gone, never another node."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        # Only VMs: epmd, which serves every node, and the VMs' helpers have the node's environment too.
        if not Path(next(iter(_arguments(pid)), "")).name.startswith("beam"):
            continue
        environment = _environment(pid)
        stale = NODE_NAME.fullmatch(environment.get("RABBITMQ_NODENAME", ""))
        if stale is None or _exists(int(stale["owner"])):
            continue  # not this harness's node, or one a running test process uses
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        # Its cluster's directory: <tmp>/medic-cluster-…/node<i>/mnesia.
        directory = Path(environment.get("RABBITMQ_MNESIA_BASE", "/")).parent.parent
        if directory.parent == Path(tempfile.gettempdir()) and directory.name.startswith("medic-cluster-"):
            shutil.rmtree(directory, ignore_errors=True)
