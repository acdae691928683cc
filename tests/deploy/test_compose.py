"""deploy/compose.yaml: two replicas of each service, health checks and start order, a database and user per
service, one RabbitMQ cluster, secrets from the env file only; and deploy/check-compose.sh, the `make lint` step.

The services' environments are interpolated as Compose does, with the committed example env file, and read by the
services' own settings classes, so what is checked is what a service would see.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
import yaml  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from medic.notifications.settings import NotificationsSettings
from medic.outreach.settings import OutreachSettings
from medic.projects.settings import ProjectsSettings
from medic.shared.runtime import STOP_TIMEOUT_S
from medic.shared.serve import HTTP_GRACEFUL_TIMEOUT_S
from medic.shared.settings import ServiceSettings
from tests.infra import postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
EXAMPLE_ENV = DEPLOY / "compose.env.example"
INIT_SCRIPT = DEPLOY / "compose" / "postgres-init" / "10-service-databases.sh"
CHECK_SCRIPT = DEPLOY / "check-compose.sh"
SERVICES = ("projects", "outreach", "notifications")
SETTINGS: dict[str, type[ServiceSettings]] = {
    "projects": ProjectsSettings,
    "outreach": OutreachSettings,
    "notifications": NotificationsSettings,
}
SH = shutil.which("sh") or "/bin/sh"
RABBITMQ_NODES = ("rabbitmq-1", "rabbitmq-2", "rabbitmq-3")
INFRASTRUCTURE = ("postgres", *RABBITMQ_NODES)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|_PASS$|_KEY$|COOKIE")
# Compose's interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR.
REFERENCE = re.compile(r"\$(?:(\$)|\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_]\w*))")


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())  # YAML merge keys (<<) resolved
    return document


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


def example_env() -> dict[str, str]:
    result = {}
    for line in EXAMPLE_ENV.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, separator, value = line.partition("=")
            assert separator, f"not KEY=VALUE: {line!r}"
            result[key.strip()] = value
    return result


def interpolate(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        value = env.get(name)
        if operator in (":-", "-"):
            return value if value or (operator == "-" and value is not None) else argument
        if operator in (":?", "?") and (value is None or (operator == ":?" and not value)):
            raise AssertionError(f"{name}: {argument}")
        return value or ""

    return REFERENCE.sub(replace, text)


def references(text: str) -> set[str]:
    return {match.group(2) or match.group(5) for match in REFERENCE.finditer(text) if not match.group(1)}


def masked(text: str) -> str:
    """Each reference without a default as <NAME>; with one, as <NAME=default> (so a URL's parts can be read)."""

    def mask(match: re.Match[str]) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        return f"<{name or bare}={argument}>" if operator in (":-", "-") else f"<{name or bare}>"

    return REFERENCE.sub(mask, text)


def service_environment(service: str) -> dict[str, str]:
    raw: dict[str, Any] = services()[service]["environment"]
    env = example_env()
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def service_settings(service: str) -> ServiceSettings:
    """The service's settings from its compose environment alone (the image adds HOST and the port)."""
    settings: ServiceSettings = SETTINGS[service](**service_environment(service))  # type: ignore[arg-type]
    return settings


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert match and duration, duration
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_two_replicas_of_its_own_image(service: str) -> None:
    definition = services()[service]
    assert definition["deploy"]["replicas"] == 2
    assert (COMPOSE_FILE.parent / definition["build"]["context"]).resolve() == ROOT
    dockerfile = ROOT / definition["build"]["dockerfile"]
    assert dockerfile == DEPLOY / "docker" / f"{service}.Dockerfile" and dockerfile.is_file()
    assert definition["image"].startswith(f"medic/{service}:")
    # The health check is the image's own (on /healthz): compose must not switch it off or replace it.
    assert "healthcheck" not in definition
    assert re.search(r"^HEALTHCHECK (?:.*\\\n)*.*/healthz", dockerfile.read_text(), re.MULTILINE)
    # Replicas share a service, so none may pin a container name or hostname.
    assert "container_name" not in definition and "hostname" not in definition


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_starts_once_its_database_and_broker_nodes_are_healthy(service: str) -> None:
    needs = set(INFRASTRUCTURE) | ({"mailpit"} if service == "notifications" else set())
    depends_on = services()[service]["depends_on"]
    assert {name: condition["condition"] for name, condition in depends_on.items()} == dict.fromkeys(
        needs, "service_healthy"
    )


def test_infrastructure_has_health_checks() -> None:
    definitions = services()
    for name in (*INFRASTRUCTURE, "mailpit"):
        assert definitions[name]["healthcheck"]["test"][0] == "CMD", name
    # Over TCP: while the image initialises the databases its server listens on a socket only.
    postgres_check = definitions["postgres"]["healthcheck"]["test"]
    assert postgres_check[1] == "pg_isready" and "--host=127.0.0.1" in postgres_check
    for node in RABBITMQ_NODES:
        assert definitions[node]["healthcheck"]["test"][1:3] == ["rabbitmq-diagnostics", "-q"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_uses_its_own_database_and_user(service: str) -> None:
    url = make_url(service_settings(service).database_url)
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.username, url.database) == ("postgres", service, service)
    assert url.password == example_env()[f"{service.upper()}_DB_PASSWORD"]
    # The init script creates that user and database, with the password compose hands to PostgreSQL.
    assert re.search(rf'^create {service} "\${service.upper()}_DB_PASSWORD"$', INIT_SCRIPT.read_text(), re.MULTILINE)
    postgres_env = services()["postgres"]["environment"]
    assert interpolate(postgres_env[f"{service.upper()}_DB_PASSWORD"], example_env()) == url.password
    # and knows no other service's database password (each container gets the secrets it needs, no more).
    others = {f"{other.upper()}_DB_PASSWORD" for other in SERVICES if other != service} | {"POSTGRES_PASSWORD"}
    assert not references(str(services()[service]["environment"])) & others


def test_postgres_runs_the_init_script_and_keeps_its_data() -> None:
    volumes = services()["postgres"]["volumes"]
    assert "./compose/postgres-init:/docker-entrypoint-initdb.d:ro" in volumes
    assert os.access(INIT_SCRIPT, os.X_OK)  # executed, not sourced, by the image's entrypoint
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in volumes)
    assert subprocess.run(["sh", "-n", str(INIT_SCRIPT)], check=False).returncode == 0


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_knows_every_node_of_the_rabbitmq_cluster(service: str) -> None:
    urls = [urlsplit(url) for url in service_settings(service).rabbitmq_urls]
    env = example_env()
    assert [url.hostname for url in urls] == list(RABBITMQ_NODES)
    assert {(url.scheme, url.port, url.username, url.password) for url in urls} == {
        ("amqp", 5672, env["RABBITMQ_USER"], env["RABBITMQ_PASSWORD"])
    }


def test_rabbitmq_nodes_form_one_cluster() -> None:
    definitions = services()
    config = (DEPLOY / "compose" / "rabbitmq" / "cluster.conf").read_text()
    assert "cluster_formation.peer_discovery_backend = classic_config" in config
    listed = re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$", config, re.MULTILINE)
    assert listed == list(RABBITMQ_NODES)
    data_volumes = set()
    for node in RABBITMQ_NODES:
        definition = definitions[node]
        assert definition["hostname"] == node  # the node is rabbit@<hostname>
        assert "./compose/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro" in definition["volumes"]
        (data,) = [v.split(":")[0] for v in definition["volumes"] if v.endswith(":/var/lib/rabbitmq")]
        data_volumes.add(data)
        environment = definition["environment"]
        assert environment["RABBITMQ_ERLANG_COOKIE"].startswith("${RABBITMQ_ERLANG_COOKIE")
        assert references(environment["RABBITMQ_DEFAULT_USER"]) == {"RABBITMQ_USER"}
    assert data_volumes <= set(compose()["volumes"]) and len(data_volumes) == len(RABBITMQ_NODES)


def test_notifications_send_emails_to_the_smtp_catcher() -> None:
    settings = service_settings("notifications")
    assert isinstance(settings, NotificationsSettings) and settings.smtp_url
    smtp = urlsplit(settings.smtp_url)
    assert (smtp.scheme, smtp.hostname, smtp.port) == ("smtp", "mailpit", 1025)
    assert services()["mailpit"]["image"].startswith("axllent/mailpit:v")


@pytest.mark.parametrize("service", SERVICES)
def test_stopping_waits_longer_than_a_graceful_stop(service: str) -> None:
    """Docker kills a container this long after SIGTERM: HTTP drain, then the consumer's batch, then the relay."""
    settings = service_settings(service)
    graceful = HTTP_GRACEFUL_TIMEOUT_S + settings.consumer_graceful_timeout_s + STOP_TIMEOUT_S
    assert seconds(services()[service]["stop_grace_period"]) > graceful


def test_secrets_come_from_the_env_file_only() -> None:
    """Every secret is a ${VARIABLE} without a default, in the values and in the passwords inside URLs."""
    secret_reference = re.compile(r"<[A-Z_]+>")
    for name, definition in services().items():
        for key, value in definition.get("environment", {}).items():
            value = masked(str(value))
            if SECRET_NAME.search(key):
                assert secret_reference.fullmatch(value), f"{name}: {key} must be a ${{VARIABLE}}"
            for password in re.findall(r"://[^:/@]+:([^@]+)@", value):
                assert secret_reference.fullmatch(password), f"{name}: {key} has a password that is not a variable"
    env = example_env()
    for key in env:
        if SECRET_NAME.search(key):
            assert env[key] == "replace-me", f"the example must not carry a usable secret: {key}"


def test_the_example_env_file_sets_exactly_the_variables_compose_uses() -> None:
    used = references(json.dumps(compose()))  # the values, not the comments
    assert used == {name for name in example_env() if not name.startswith("COMPOSE_")}  # those are Compose's


def test_the_real_env_file_is_ignored_by_git() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert subprocess.run([git, "check-ignore", "-q", "deploy/compose.env"], cwd=ROOT).returncode == 0
    assert subprocess.run([git, "check-ignore", "-q", "deploy/compose.env.example"], cwd=ROOT).returncode == 1


def test_published_ports_do_not_collide() -> None:
    taken: dict[int, str] = {}
    for name, definition in services().items():
        for mapping in definition.get("ports", []):
            address, host, container = str(mapping).split(":")
            assert address == "127.0.0.1", f"{name} publishes on every interface"
            first, _, last = host.partition("-")
            ports = range(int(first), int(last or first) + 1)
            if name in SERVICES:
                assert len(ports) >= definition["deploy"]["replicas"], f"{name}: a host port per replica"
                assert int(container) == SETTINGS[name].model_fields["port"].default
            for port in ports:
                assert port not in taken, f"{name} and {taken[port]} both publish {port}"
                taken[port] = name


# --- deploy/check-compose.sh ---


def run_check(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SH, str(CHECK_SCRIPT), *arguments],
        capture_output=True,
        text=True,
        env=env if env is not None else {**os.environ, "CI": os.environ.get("CI", "")},
        timeout=120,
    )


def test_check_script_accepts_the_compose_file() -> None:
    completed = run_check()
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_check_script_rejects_an_invalid_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE_FILE.read_text().replace("replicas: 2", "replicas: two", 1))
    (tmp_path / "compose").symlink_to(DEPLOY / "compose")
    completed = run_check(str(broken))
    assert completed.returncode != 0, completed.stdout + completed.stderr


def test_check_script_fails_in_ci_without_a_compose_tool(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {"PATH": str(empty), "CI": "true", "HOME": str(tmp_path)}
    completed = run_check(env=env)
    assert completed.returncode != 0
    assert "neither 'docker compose' nor 'docker-compose' is installed" in completed.stderr


# --- The init script on a real PostgreSQL ---


@pytest.mark.integration
def test_init_script_gives_each_service_a_database_only_it_can_use(tmp_path: Path) -> None:
    """The script's `create` function, run as the image runs it (psql as the superuser), under test-only names."""
    admin_url, _ = postgres_admin_url()
    admin = make_url(admin_url)
    prefix = f"medic_test_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{service}" for service in SERVICES]
    functions = INIT_SCRIPT.read_text().split("\ncreate projects ")[0]  # everything before the calls
    calls = "".join(f'create {name} "pw-{name}"\n' for name in names)
    env = {
        **os.environ,
        "POSTGRES_USER": admin.username or "postgres",
        "PGHOST": admin.host or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
    }
    if admin.password:
        env["PGPASSWORD"] = admin.password
    script = tmp_path / "init.sh"
    script.write_text(functions + "\n" + calls)
    try:
        completed = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)
        assert completed.returncode == 0, completed.stderr
        asyncio.run(_check_isolation(env, names))
    finally:
        asyncio.run(_drop(admin_url, names))


async def _check_isolation(env: dict[str, str], names: list[str]) -> None:
    host, port = env["PGHOST"], int(env["PGPORT"])
    for name in names:
        own = await asyncpg.connect(host=host, port=port, user=name, password=f"pw-{name}", database=name)
        try:
            owner = await own.fetchval("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", name)
            assert owner == name
            await own.execute("CREATE TABLE migrations_can_create_tables (id int)")
        finally:
            await own.close()
        for other in names:
            if other != name:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await asyncpg.connect(host=host, port=port, user=name, password=f"pw-{name}", database=other)


async def _drop(admin_url: str, names: list[str]) -> None:
    admin = await asyncpg.connect(make_url(admin_url).set(drivername="postgresql").render_as_string(False))
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await admin.close()
