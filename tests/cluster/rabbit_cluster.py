"""A three-node RabbitMQ cluster on this machine, from the installed rabbitmq-server, for the failover tests.

Each node has its own name, AMQP and distribution ports, data and log directories and no plugins, like
tests/infra.py's LocalNodeBroker; they share the Erlang cookie of the `rabbitmq` user (the one every local
node gets), which is what lets them cluster. Nodes 2 and 3 join node 1 with `rabbitmqctl join_cluster`.
Everything is stopped and deleted at the end, whatever happened.
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

from tests.infra import _hand_to_rabbitmq_user, free_port

CTL_TIMEOUT_S = 60
QUEUE_FIELDS = ("name", "type", "leader", "members", "online", "arguments", "messages", "consumers")


@dataclass
class Node:
    name: str  # e.g. medic-c1-1a2b3c4d@localhost
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
            Node(f"medic-c{index}-{token}@localhost", free_port(), self.directory / f"node{index}")
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
        (node.directory / "enabled_plugins").write_text("[].\n")
        (node.directory / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{node.port}\n")
        _hand_to_rabbitmq_user(node.directory)
        node.env = {
            **os.environ,
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_PORT": str(node.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_CONFIG_FILE": str(node.directory / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(node.directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.directory / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.directory / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(node.directory / "pid"),
        }
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
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _exists(pid):
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
            if not _exists(_pid(node)):
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
            self.process.kill()
            self.process.communicate()
            raise
        found = re.search(r"\{'?([^',{}]+)'?,(\d+)\}", output)
        if self.process.returncode != 0 or found is None:
            raise AssertionError(f"no new leader: {output}")
        return found.group(1), int(found.group(2)) / 1000


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
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _kill_node(node: Node) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(int((node.directory / "pid").read_text().strip()), signal.SIGKILL)
