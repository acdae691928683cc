"""The service images, without Docker.

Each Dockerfile's build stage is replayed here as written: its COPY instructions fill a build directory from the
repository through .dockerignore, and its `uv sync` steps run in it into a throwaway environment. That environment
must hold its service with the code and data files it reads at run time, and nothing else; copied on its own (as
the final stage copies it), it must start the service outside the repository with the image's CMD and ENV, answer
the image's own HEALTHCHECK, and stop cleanly on the image's STOPSIGNAL. Then what the files must say.
"""

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from medic.notifications.settings import NotificationsSettings
from medic.outreach.settings import OutreachSettings
from medic.projects.settings import ProjectsSettings
from medic.shared.settings import ServiceSettings
from tests.infra import delete_broker_namespace, free_port, rabbitmq_url

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
SERVICES = ("projects", "outreach", "notifications")
SETTINGS: dict[str, type[ServiceSettings]] = {
    "projects": ProjectsSettings,
    "outreach": OutreachSettings,
    "notifications": NotificationsSettings,
}
START_TIMEOUT_S = 60
# Three installs and three service starts on a busy machine: more than the suite's default per-test timeout.
pytestmark = pytest.mark.timeout(300)
STOP_TIMEOUT_S = 45


def default_port(service: str) -> int:
    port: int = SETTINGS[service].model_fields["port"].default
    return port


# --- A small Dockerfile reader: instructions (continuations joined, comments dropped), grouped by stage. ---


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    result: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return result


def stages(path: Path) -> list[list[Instruction]]:
    """Each FROM starts a stage; instructions before the first FROM (global ARGs) are left out."""
    result: list[list[Instruction]] = []
    for instruction in instructions(path.read_text()):
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def stage(path: Path, name: str) -> list[Instruction]:
    for candidate in stages(path):
        if candidate[0].arguments.lower().endswith(f" as {name}"):
            return candidate
    raise AssertionError(f"{path.name} has no stage {name!r}")


def final_stage(path: Path) -> list[Instruction]:
    return stages(path)[-1]


def arguments(instructions: list[Instruction], keyword: str) -> list[str]:
    return [i.arguments for i in instructions if i.keyword == keyword]


def environment(instructions: list[Instruction]) -> dict[str, str]:
    """ENV key=value pairs, later ones winning."""
    result: dict[str, str] = {}
    for text in arguments(instructions, "ENV"):
        for pair in shlex.split(text):
            key, _, value = pair.partition("=")
            result[key] = value
    return result


def exec_form(text: str) -> list[str]:
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(part, str) for part in value), text
    return value


def healthcheck_command(instructions: list[Instruction]) -> list[str]:
    (text,) = arguments(instructions, "HEALTHCHECK")
    _, _, command = text.partition("CMD ")
    return exec_form(command)


def uv_sync_steps(builder: list[Instruction]) -> list[list[str]]:
    """The builder's RUN steps as argument lists, with their --mount options taken off: each is one `uv sync`."""
    steps = []
    for text in arguments(builder, "RUN"):
        argv = [part for part in shlex.split(text) if not part.startswith("--mount=")]
        assert argv[:2] == ["uv", "sync"], f"a build step the test cannot replay: {text}"
        steps.append(argv)
    return steps


# --- .dockerignore, as BuildKit reads it: the last pattern matching a path or one of its parents decides. ---


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        rules.append((include, re.compile(regex + r"\Z")))
    return rules


def ignored(relative: str) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for include, pattern in dockerignore_rules():
        if any(pattern.match(prefix) for prefix in prefixes):
            excluded = not include
    return excluded


def copy_into_context(source: str, target: Path) -> None:
    """COPY from the build context: only what .dockerignore lets into it."""
    origin = ROOT / source
    if origin.is_file():
        assert not ignored(source), f"{source} is copied but .dockerignore leaves it out of the build context"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target)
        return
    copied = 0
    for path in sorted(origin.rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if path.is_file() and not ignored(relative):
            destination = target / path.relative_to(origin)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            copied += 1
    assert copied, f"{source} is copied but .dockerignore leaves all of it out of the build context"


# --- Replaying the build stage ---


@dataclass(frozen=True)
class Built:
    service: str
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def build(service: str, directory: Path) -> Built:
    """Run the builder stage's WORKDIR, COPY and RUN steps; the environment goes to `directory/venv`."""
    builder = stage(DOCKER / f"{service}.Dockerfile", "builder")
    context = directory / "build"
    venv = directory / "venv"
    workdir = context
    env = {**os.environ, **environment(builder), "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("UV_PYTHON")  # the image's interpreter path; here uv finds this machine's (downloads stay off)
    env.pop("VIRTUAL_ENV", None)
    # For speed only (neither changes what is installed): no bytecode compiling, links into uv's cache, not copies.
    env["UV_COMPILE_BYTECODE"] = "0"
    env.pop("UV_LINK_MODE")
    for instruction in builder[1:]:
        if instruction.keyword == "WORKDIR":
            workdir = context / instruction.arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY" and not instruction.arguments.startswith("--from="):
            *sources, destination = shlex.split(instruction.arguments)
            for source in sources:
                target = workdir / destination
                if destination.endswith("/") or len(sources) > 1:
                    target = target / Path(source).name
                copy_into_context(source, target)
        elif instruction.keyword == "RUN":
            (argv,) = uv_sync_steps([instruction])
            completed = subprocess.run(
                ["sh", str(ROOT / "deploy" / "uv.sh"), *argv[1:]],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert completed.returncode == 0, f"{' '.join(argv)} failed:\n{completed.stderr[-3000:]}"
    shutil.rmtree(context)  # the final stage copies the environment alone
    return Built(service, venv)


# The installed environment, asked from outside the repository: where each module is, and which files its package
# directory holds.
INSPECT = """
import importlib, importlib.util, json, pathlib, sys, sysconfig
service = sys.argv[1]
modules = {}
for name in ("medic.shared", "medic.projects", "medic.outreach", "medic.notifications", "medic.deploy",
             "pytest", "mypy", "ruff", "httpx", "hypothesis"):
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        spec = None
    modules[name] = spec.origin if spec and spec.origin else (list(spec.submodule_search_locations) if spec else None)
importlib.import_module(f"medic.{service}.bootstrap")
importlib.import_module(f"medic.{service}.__main__")
site = pathlib.Path(sysconfig.get_paths()["purelib"])
files = sorted(p.relative_to(site).as_posix() for p in (site / "medic").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts)
pth = {p.name: p.read_text() for p in site.glob("*.pth")}
print(json.dumps({"modules": modules, "files": files, "site": str(site), "pth": pth}))
"""


def inspect(built: Built, outside: Path) -> dict[str, object]:
    completed = subprocess.run(
        [str(built.python), "-c", INSPECT, built.service],
        cwd=outside,
        env={"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, object] = json.loads(completed.stdout)
    return result


def package_files(source_root: Path) -> set[str]:
    """What a package's source directory holds (code and data), as paths under site-packages."""
    return {
        path.relative_to(source_root.parent.parent).as_posix()
        for path in source_root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")
    }


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Each service's environment, built once for this module's tests."""
    return {service: build(service, tmp_path_factory.mktemp(f"image-{service}")) for service in SERVICES}


@pytest.fixture(scope="module")
def reports(images: dict[str, Built], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """What each environment holds, asked once per service from a directory outside the repository."""
    outside = tmp_path_factory.mktemp("outside")
    return {service: inspect(built, outside) for service, built in images.items()}


@pytest.mark.parametrize("service", SERVICES)
def test_install_step_holds_the_service_and_nothing_else(reports: dict[str, dict[str, object]], service: str) -> None:
    report = reports[service]
    modules = report["modules"]
    site = str(report["site"])
    assert isinstance(modules, dict)
    for name in ("medic.shared", f"medic.{service}"):
        location = modules[name]
        assert location is not None, f"{name} is not installed"
        assert str(location).startswith(site), f"{name} is not installed into the environment: {location}"
    others = [
        name for name in ("medic.projects", "medic.outreach", "medic.notifications") if name != f"medic.{service}"
    ]
    extras = ["medic.deploy", "pytest", "mypy", "ruff", "httpx", "hypothesis"]
    assert {name: modules[name] for name in others + extras} == dict.fromkeys(others + extras)
    # Wheels, not links back to a source tree (which the final image does not have).
    pth = report["pth"]
    assert isinstance(pth, dict)
    assert not [name for name, text in pth.items() if "medic" in name or "/build" in text], pth


@pytest.mark.parametrize("service", SERVICES)
def test_install_step_ships_every_code_and_data_file(reports: dict[str, dict[str, object]], service: str) -> None:
    """Migrations, email templates, lookup samples: everything in the packages' source, found in the environment."""
    files = reports[service]["files"]
    assert isinstance(files, list)
    expected = package_files(ROOT / "shared" / "src" / "medic" / "shared")
    expected |= package_files(ROOT / "services" / service / "src" / "medic" / service)
    missing = sorted(expected - set(files))
    assert not missing, f"not in the {service} image: {missing[:20]}"
    data = {
        "projects": ["medic/projects/migrations/env.py", "medic/projects/migrations/script.py.mako"],
        "outreach": ["medic/outreach/lookups/samples/manifest.csv", "medic/outreach/migrations/script.py.mako"],
        "notifications": ["medic/notifications/templates/emails/_layout.html.j2"],
    }[service]
    assert set(data) <= set(files)
    assert any(name.startswith(f"medic/{service}/migrations/versions/") for name in files)


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
def test_image_command_starts_the_service_and_passes_its_health_check(
    images: dict[str, Built], service: str, tmp_path: Path
) -> None:
    """CMD with the image's ENV (but HOST: loopback only here), in a WORKDIR outside the repository, on its default
    (SQLite) database: the HEALTHCHECK command succeeds, and the STOPSIGNAL stops it with status 0."""
    dockerfile = DOCKER / f"{service}.Dockerfile"
    final = final_stage(dockerfile)
    image_env = environment(final)
    port_variable = f"{service.upper()}_PORT"
    url, _ = rabbitmq_url()
    namespace = f"t-img-{uuid.uuid4().hex[:8]}"
    env = {
        **{key: value for key, value in image_env.items() if key != "PATH"},
        "PATH": f"{images[service].venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        port_variable: str(free_port()),
        "RABBITMQ_URL": url,
        "BROKER_NAMESPACE": namespace,
        "LOG_LEVEL": "WARNING",
        # The image says 0.0.0.0 (test_final_stage_runs_the_service_unprivileged_with_a_health_check checks it);
        # on the test machine, loopback only.
        "HOST": "127.0.0.1",
    }
    (workdir,) = arguments(final, "WORKDIR")
    app = tmp_path / workdir.lstrip("/")
    (app / "var").mkdir(parents=True)  # as the image makes it
    (cmd,) = arguments(final, "CMD")
    log = (tmp_path / "service.log").open("w")
    process = subprocess.Popen(exec_form(cmd), cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            check = subprocess.run(healthcheck_command(final), cwd=app, env=env, capture_output=True, timeout=30)
            if check.returncode == 0:
                break
            assert process.poll() is None, (tmp_path / "service.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
            time.sleep(0.5)
        (stop_signal,) = arguments(final, "STOPSIGNAL")
        process.send_signal(signal.Signals[stop_signal])
        assert process.wait(timeout=STOP_TIMEOUT_S) == 0, (tmp_path / "service.log").read_text()[-3000:]
        # The default database is where the image's WORKDIR says: /app/var, which the image creates for its user.
        assert (app / "var" / f"{service}.db").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
        asyncio.run(delete_broker_namespace([url], namespace, SERVICES))


# --- What the Dockerfiles must say ---


def normalised(service: str) -> str:
    text = (DOCKER / f"{service}.Dockerfile").read_text()
    text = text.replace(service, "<service>").replace(service.upper(), "<SERVICE>")
    return text.replace(str(default_port(service)), "<port>")


def test_one_dockerfile_per_service_all_alike_but_for_name_and_port() -> None:
    assert sorted(path.name for path in DOCKER.glob("*Dockerfile*")) == sorted(f"{s}.Dockerfile" for s in SERVICES)
    first, *others = SERVICES
    for service in others:
        assert normalised(service) == normalised(first), f"{service}.Dockerfile has drifted from {first}.Dockerfile"


@pytest.mark.parametrize("service", SERVICES)
def test_build_stage_installs_only_the_service_from_the_frozen_lock(service: str) -> None:
    dockerfile = DOCKER / f"{service}.Dockerfile"
    text = dockerfile.read_text()
    assert text.startswith("# syntax=docker/dockerfile:1\n")  # RUN --mount needs BuildKit's syntax
    steps = uv_sync_steps(stage(dockerfile, "builder"))
    assert len(steps) == 2
    for step in steps:
        assert {"--frozen", "--no-dev", "--no-editable"} <= set(step)
        assert step[step.index("--package") + 1] == f"medic-{service}"
    assert "--no-install-workspace" in steps[0]  # dependencies first: a cached layer while only code changes
    # The base image's interpreter, never a downloaded one the final stage would not have.
    builder_env = environment(stage(dockerfile, "builder"))
    assert builder_env["UV_PYTHON_DOWNLOADS"] == "never"
    assert builder_env["UV_PYTHON"] == "/usr/local/bin/python3.11"
    runs = arguments(stage(dockerfile, "builder"), "RUN")
    assert all("--mount=type=cache,target=/root/.cache/uv" in run for run in runs)
    uv_image = re.search(r"^FROM ghcr\.io/astral-sh/uv:(\S+) AS uv$", text, re.MULTILINE)
    assert uv_image and re.fullmatch(r"\d+\.\d+\.\d+", uv_image.group(1)), "pin uv's image to a version"
    python_image = re.search(r"^ARG PYTHON_IMAGE=python:(\S+)$", text, re.MULTILINE)
    assert python_image and re.fullmatch(r"3\.11\.\d+-slim-\w+", python_image.group(1)), "pin Python to a release"


@pytest.mark.parametrize("service", SERVICES)
def test_final_stage_runs_the_service_unprivileged_with_a_health_check(service: str) -> None:
    dockerfile = DOCKER / f"{service}.Dockerfile"
    builder, final = stage(dockerfile, "builder"), final_stage(dockerfile)
    # The same base image as the builder, so the environment's interpreter link points at a real Python.
    assert final[0].arguments == builder[0].arguments.rsplit(" ", 2)[0] == "${PYTHON_IMAGE}"
    # Only the built environment comes in; no compilers or package installs.
    copies = arguments(final, "COPY")
    assert copies == ["--from=builder /app/venv /app/venv"]
    runs = " ".join(arguments(final, "RUN"))
    for forbidden in ("apt-get", "apk ", "pip ", "gcc", "build-essential", "uv "):
        assert forbidden not in runs
    (user,) = arguments(final, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "a numeric non-root user (Kubernetes' runAsNonRoot checks it)"
    env = environment(final)
    assert env["HOST"] == "0.0.0.0"
    assert env[f"{service.upper()}_PORT"] == str(default_port(service))
    assert env["PYTHONDONTWRITEBYTECODE"] == env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/app/venv/bin:")
    assert arguments(final, "EXPOSE") == [str(default_port(service))]
    health = healthcheck_command(final)
    assert health[0] == "python" and "/healthz" in health[-1] and f"{service.upper()}_PORT" in health[-1]
    assert arguments(final, "STOPSIGNAL") == ["SIGTERM"]
    assert exec_form(arguments(final, "CMD")[0]) == ["python", "-m", f"medic.{service}"]


def test_dockerignore_keeps_the_context_to_what_the_build_copies() -> None:
    for kept in (
        "pyproject.toml",
        "uv.lock",
        "shared/pyproject.toml",
        "shared/src/medic/shared/settings.py",
        "services/outreach/src/medic/outreach/lookups/samples/manifest.csv",
    ):
        assert not ignored(kept), kept
    for left_out in (
        ".git/HEAD",
        ".venv/bin/python",
        "var/projects.db",
        "deploy/compose.env",
        "tests/conftest.py",
        "services/projects/tests/test_api.py",
        "shared/src/medic/shared/__pycache__/settings.cpython-311.pyc",
        "docs/partner-events.md",
        "bench/pipeline.py",
    ):
        assert ignored(left_out), left_out
