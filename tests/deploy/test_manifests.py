"""What the Kubernetes manifests in deploy/k8s/ must say, beyond their schema (deploy/check-k8s.sh validates that).

Each service: its objects, probes on its port, a stop longer than its own shutdown, settings the service accepts,
secrets that exist, a locked-down container. The NetworkPolicies are evaluated by a small evaluator below to answer
"who may reach what": only notifications reaches the internet, only a service its own database.
"""

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from ruamel.yaml import YAML

from medic.notifications.settings import NotificationsSettings
from medic.outreach.settings import OutreachSettings
from medic.projects.settings import ProjectsSettings
from medic.shared.runtime import STOP_TIMEOUT_S
from medic.shared.serve import HTTP_GRACEFUL_TIMEOUT_S
from medic.shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "projects": ProjectsSettings,
    "outreach": OutreachSettings,
    "notifications": NotificationsSettings,
}
SERVICES = list(SETTINGS)

Manifest = dict[str, Any]
SettingsOf = Callable[[str], ServiceSettings]


def documents(folder: str) -> list[Manifest]:
    """Every object in a folder's YAML files (kustomizations are not objects)."""
    found: list[Manifest] = []
    for path in sorted((K8S / folder).glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found.extend(document for document in YAML(typ="safe", pure=True).load_all(path.read_text()) if document)
    return found


BASE = documents("base")
SECRETS = documents("example-secrets")
RABBITMQ = documents("rabbitmq")
IN_CLUSTER_POSTGRES = documents("postgres-in-cluster")


def one(manifests: Sequence[Manifest], kind: str, name: str) -> Manifest:
    matching = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(matching) == 1, f"{len(matching)} {kind} named {name}"
    return matching[0]


def container(service: str) -> Manifest:
    (only,) = one(BASE, "Deployment", service)["spec"]["template"]["spec"]["containers"]
    result: Manifest = only
    return result


def environment(service: str) -> dict[str, str]:
    """The service's environment as the kubelet would build it, from the manifests and the example Secrets."""
    spec = container(service)
    env: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            env.update(one(BASE, "ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            env.update(one(SECRETS, "Secret", source["secretRef"]["name"])["stringData"])
    for variable in spec.get("env", []):  # `env` wins over `envFrom`
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            reference = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = one(SECRETS, "Secret", reference["name"])["stringData"][reference["key"]]
    return env


@pytest.fixture
def settings_of(monkeypatch: pytest.MonkeyPatch) -> SettingsOf:
    """The service's settings read from the environment its manifest gives it (and nothing else)."""

    def read(service: str) -> ServiceSettings:
        settings = SETTINGS[service]
        for name, declared in settings.model_fields.items():  # whatever this process's environment says
            alias = declared.validation_alias
            monkeypatch.delenv(alias if isinstance(alias, str) else name.upper(), raising=False)
        for name, value in environment(service).items():
            monkeypatch.setenv(name, value)
        return settings()

    return read


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_its_deployment_service_budget_and_autoscaler(service: str) -> None:
    deployment = one(BASE, "Deployment", service)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert deployment["spec"]["replicas"] >= 2
    assert container(service)["image"].startswith(f"medic/{service}:")  # as deploy/compose.yaml builds it

    svc = one(BASE, "Service", service)
    assert svc["spec"]["selector"] == selector
    (port,) = svc["spec"]["ports"]
    assert port["targetPort"] == "http"

    budget = one(BASE, "PodDisruptionBudget", service)
    assert budget["spec"] == {"minAvailable": 1, "selector": {"matchLabels": selector}}

    autoscaler = one(BASE, "HorizontalPodAutoscaler", service)
    assert autoscaler["apiVersion"] == "autoscaling/v2"
    assert autoscaler["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert autoscaler["spec"]["minReplicas"] >= 2
    (metric,) = autoscaler["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "cpu" in container(service)["resources"]["requests"]  # utilisation is measured against the request

    account = one(BASE, "ServiceAccount", service)
    assert account["automountServiceAccountToken"] is False
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == service


@pytest.mark.parametrize("service", SERVICES)
def test_probes_ask_the_service_on_the_port_it_listens_on(service: str, settings_of: SettingsOf) -> None:
    spec = container(service)
    settings = settings_of(service)
    (http,) = spec["ports"]
    assert http == {"name": "http", "containerPort": settings.port}
    assert settings.host == "0.0.0.0"  # reachable from outside the pod
    probes = {name: spec[name]["httpGet"] for name in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes == {
        "startupProbe": {"path": "/healthz", "port": "http"},
        "livenessProbe": {"path": "/healthz", "port": "http"},
        "readinessProbe": {"path": "/readyz", "port": "http"},
    }
    # /readyz waits up to 3 s for each of its two checks (database, broker).
    assert spec["readinessProbe"]["timeoutSeconds"] > 2 * 3


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_accepts_its_environment(service: str, settings_of: SettingsOf) -> None:
    settings = settings_of(service)
    assert settings.database_url.startswith("postgresql+asyncpg://")  # SQLite is for one process only
    assert f"postgres-{service}.medic.svc" in settings.database_url
    assert len(settings.rabbitmq_urls) == 3  # the three nodes of deploy/k8s/rabbitmq
    # Every secret setting comes from the Secrets, never the development default (envFrom passes on whatever keys a
    # Secret has: a misspelt one would leave the default in place).
    secrets = {name: value for name, value in settings if isinstance(value, SecretStr)}
    assert secrets, "no secret settings found"
    for name, value in secrets.items():
        default = type(settings).model_fields[name].default
        assert value.get_secret_value().startswith("CHANGE-ME"), f"{name} is not set from the Secret"
        assert value != default


@pytest.mark.parametrize("service", SERVICES)
def test_a_stop_has_time_for_the_whole_graceful_shutdown(service: str, settings_of: SettingsOf) -> None:
    pod = one(BASE, "Deployment", service)["spec"]["template"]["spec"]
    command = container(service)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop_s = float(command[1])
    # The grace period counts from the preStop hook: then open requests, the consumer's batch in hand and the
    # relay's stop, each bounded by its own timeout.
    needed = pre_stop_s + HTTP_GRACEFUL_TIMEOUT_S + settings_of(service).consumer_graceful_timeout_s + STOP_TIMEOUT_S
    assert pod["terminationGracePeriodSeconds"] > needed


@pytest.mark.parametrize("service", SERVICES)
def test_the_container_is_locked_down(service: str, settings_of: SettingsOf) -> None:
    pod = one(BASE, "Deployment", service)["spec"]["template"]["spec"]
    spec = container(service)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert spec["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"cpu", "memory"} <= spec["resources"]["limits"].keys()
    dockerfile = ROOT / "deploy" / "docker" / f"{service}.Dockerfile"
    users = re.findall(r"^USER (\S+)", dockerfile.read_text(), re.MULTILINE)
    assert users == [f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"]
    # The only writable paths are emptyDir volumes; what the service writes must be under one of them.
    assert all("emptyDir" in volume for volume in pod["volumes"])
    writable = [Path(mount["mountPath"]) for mount in spec["volumeMounts"]]
    if service == "notifications":
        settings = settings_of(service)
        assert isinstance(settings, NotificationsSettings)
        mail_dir = Path(settings.mail_dir)  # used while SMTP_URL is unset
        assert any(mail_dir.is_relative_to(path) for path in writable)


def test_every_secret_a_pod_reads_exists_with_placeholder_values() -> None:
    secrets = {secret["metadata"]["name"]: secret["stringData"] for secret in SECRETS if secret["kind"] == "Secret"}
    wanted: set[tuple[str, str | None]] = set()
    for service in SERVICES:
        spec = container(service)
        wanted |= {(source["secretRef"]["name"], None) for source in spec["envFrom"] if "secretRef" in source}
        wanted |= {
            (variable["valueFrom"]["secretKeyRef"]["name"], variable["valueFrom"]["secretKeyRef"]["key"])
            for variable in spec["env"]
            if "secretKeyRef" in variable.get("valueFrom", {})
        }
    for name, key in wanted:
        assert name in secrets, f"Secret {name} is read but not defined"
        assert key is None or key in secrets[name], f"Secret {name} has no {key}"
    assert {name for name, _ in wanted} == secrets.keys()  # and no example Secret that nothing reads
    for name, values in secrets.items():
        for key, value in values.items():
            assert "CHANGE-ME" in value, f"{name}.{key} must be a marked placeholder"
    # Each service sees its own database URL, never another's.
    for service in SERVICES:
        own = f"medic-{service}"
        assert [n for n, v in secrets.items() if f"{service.upper()}_DATABASE_URL" in v] == [own]


def test_the_rabbitmq_cluster_is_three_nodes_that_pause_in_a_minority() -> None:
    (namespace, cluster) = RABBITMQ
    assert namespace["kind"] == "Namespace"
    assert (cluster["apiVersion"], cluster["kind"]) == ("rabbitmq.com/v1beta1", "RabbitmqCluster")
    assert cluster["metadata"]["namespace"] == namespace["metadata"]["name"]
    spec = cluster["spec"]
    # No bundled schema for the operator's CRD: the fields used must be among those of its v1beta1 spec (from
    # rabbitmq/cluster-operator v2.22, config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml).
    assert spec.keys() <= {
        "affinity", "autoEnableAllFeatureFlags", "delayStartSeconds", "image", "imagePullSecrets", "override",
        "persistence", "rabbitmq", "replicas", "resources", "secretBackend", "service", "skipPostDeploySteps",
        "terminationGracePeriodSeconds", "tls", "tolerations",
    }  # fmt: skip
    assert spec["persistence"].keys() <= {"emptyDir", "storage", "storageClassName"}
    assert spec["rabbitmq"].keys() <= {
        "additionalConfig", "additionalPlugins", "advancedConfig", "envConfig", "erlangInetConfig",
    }  # fmt: skip
    assert spec["resources"].keys() <= {"claims", "limits", "requests"}
    assert spec["replicas"] == 3
    assert "storage" in spec["persistence"]
    assert "cluster_partition_handling = pause_minority" in spec["rabbitmq"]["additionalConfig"]
    (term,) = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": cluster["metadata"]["name"]}


# The NetworkPolicy evaluator: enough of the semantics for these manifests, and it refuses anything it does not
# understand (matchExpressions, named ports, port ranges), so a test cannot pass by skipping a rule.


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Address:
    """A host outside the cluster (no NetworkPolicy of its own)."""

    ip: str


Endpoint = Pod | Address


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    assert selector.keys() <= {"matchLabels"}, f"evaluator does not support {selector}"
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def peer_matches(peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    assert peer.keys() <= {"ipBlock", "namespaceSelector", "podSelector"}, f"evaluator does not support {peer}"
    if "ipBlock" in peer:
        # An ipBlock is for addresses outside the cluster (what it does to pod addresses depends on the CNI).
        if not isinstance(other, Address):
            return False
        ip = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(excluded) for excluded in block.get("except", [])
        )
    if not isinstance(other, Pod):
        return False
    if "namespaceSelector" in peer:
        in_namespace = selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": other.namespace})
    else:
        in_namespace = other.namespace == policy_namespace
    return in_namespace and selects(peer.get("podSelector", {}), other.labels)


def port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for allowed in ports:
        assert isinstance(allowed["port"], int) and "endPort" not in allowed, f"evaluator does not support {allowed}"
        if allowed["port"] == port and allowed.get("protocol", "TCP") == protocol:
            return True
    return False


class NetworkPolicies:
    def __init__(self, manifests: Sequence[Manifest]) -> None:
        self.policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]

    def allows(self, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """A connection needs the source's egress and the destination's ingress allowed."""
        return self._allowed("Egress", source, destination, port, protocol) and self._allowed(
            "Ingress", destination, source, port, protocol
        )

    def _allowed(self, direction: str, pod: Endpoint, other: Endpoint, port: int, protocol: str) -> bool:
        if isinstance(pod, Address):
            return True  # outside the cluster: no policy of ours applies
        selecting = [
            policy
            for policy in self.policies
            if policy["metadata"]["namespace"] == pod.namespace
            and direction in policy["spec"]["policyTypes"]  # required here: the default depends on the rules
            and selects(policy["spec"]["podSelector"], pod.labels)
        ]
        if not selecting:
            return True  # a pod no policy selects for a direction is open in that direction
        peers_key = "to" if direction == "Egress" else "from"
        for policy in selecting:
            for rule in policy["spec"].get(direction.lower(), []):
                peers = rule.get(peers_key)  # none: any peer
                if (not peers or any(peer_matches(p, policy["metadata"]["namespace"], other) for p in peers)) and (
                    port_matches(rule.get("ports"), port, protocol)
                ):
                    return True
        return False


POLICIES = NetworkPolicies(BASE + IN_CLUSTER_POSTGRES)
CLUSTER = one(RABBITMQ, "RabbitmqCluster", "medic-rabbitmq")
BROKER = Pod(CLUSTER["metadata"]["namespace"], {"app.kubernetes.io/name": CLUSTER["metadata"]["name"]})
DNS = Pod("kube-system", {"k8s-app": "kube-dns"})
INGRESS_CONTROLLER = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
STRANGERS = [Pod("medic", {"app.kubernetes.io/name": "debug-shell"}), Pod("default"), Pod("medic-data")]
PUBLIC = Address("203.0.113.10")  # a documentation address, standing for any host on the internet


def pod(service: str) -> Pod:
    return Pod("medic", one(BASE, "Deployment", service)["spec"]["template"]["metadata"]["labels"])


def external_database(service: str) -> Address:
    """The address base/databases.yaml gives the service's database (the Service's EndpointSlice)."""
    (endpoint,) = one(BASE, "EndpointSlice", f"postgres-{service}")["endpoints"]
    (address,) = endpoint["addresses"]
    return Address(address)


def in_cluster_database(service: str) -> Pod:
    return Pod("medic-data", {"app.kubernetes.io/name": f"postgres-{service}"})


@pytest.mark.parametrize("service", SERVICES)
def test_only_notifications_reaches_the_internet(service: str) -> None:
    expected = service == "notifications"
    assert POLICIES.allows(pod(service), PUBLIC, 443) is expected  # webhooks
    assert POLICIES.allows(pod(service), PUBLIC, 587) is expected  # the SMTP relay
    assert not POLICIES.allows(pod(service), PUBLIC, 80)  # http:// endpoints are for development only
    assert not POLICIES.allows(pod(service), PUBLIC, 5432)
    for private in ("10.1.2.3", "172.20.0.5", "192.168.1.1", "169.254.169.254", "127.0.0.1", "100.64.0.1"):
        assert not POLICIES.allows(pod(service), Address(private), 443), private  # no way in behind a webhook URL


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reaches_the_broker_and_dns_and_nothing_else_in_the_cluster(service: str) -> None:
    assert POLICIES.allows(pod(service), BROKER, 5672)
    assert not POLICIES.allows(pod(service), BROKER, 15672)  # management: for operators, not the services
    assert POLICIES.allows(pod(service), DNS, 53, "UDP")
    assert POLICIES.allows(pod(service), DNS, 53, "TCP")
    for other in SERVICES:
        port = one(BASE, "Service", other)["spec"]["ports"][0]["port"]
        assert not POLICIES.allows(pod(service), pod(other), port)  # they talk through events only
        assert POLICIES.allows(INGRESS_CONTROLLER, pod(other), port)
    for stranger in STRANGERS:
        assert not POLICIES.allows(stranger, pod(service), one(BASE, "Service", service)["spec"]["ports"][0]["port"])
    # Which is why the service may believe any peer's X-Forwarded-For (uvicorn reads FORWARDED_ALLOW_IPS).
    assert environment(service)["FORWARDED_ALLOW_IPS"] == "*"


@pytest.mark.parametrize("database", SERVICES)
@pytest.mark.parametrize("service", SERVICES)
def test_nothing_reaches_a_database_but_its_own_service(service: str, database: str) -> None:
    own = service == database
    assert POLICIES.allows(pod(service), external_database(database), 5432) is own
    assert POLICIES.allows(pod(service), in_cluster_database(database), 5432) is own
    # For a database in the cluster each side holds on its own: the clients' egress, the database's ingress.
    assert NetworkPolicies(BASE).allows(pod(service), in_cluster_database(database), 5432) is own
    database_side = NetworkPolicies(IN_CLUSTER_POSTGRES)
    assert database_side.allows(pod(service), in_cluster_database(database), 5432) is own
    for stranger in STRANGERS:
        assert not database_side.allows(stranger, in_cluster_database(database), 5432)
    # An external database has no ingress policy here: pods in medic are kept from it by their egress policies;
    # for the rest of the cluster, its own firewall should admit only the services' nodes (deploy/README.md).
    assert not POLICIES.allows(STRANGERS[0], external_database(database), 5432)


def test_the_evaluator_tells_allowed_from_denied() -> None:
    """Without policies everything is open; a policy selecting a pod closes what its rules do not name."""
    open_pod, closed_pod = Pod("a", {"app": "x"}), Pod("a", {"app": "y"})
    egress_only_to_x = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "a"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "y"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "x"}}}], "ports": [{"port": 80}]}],
        },
    }
    assert NetworkPolicies([]).allows(closed_pod, PUBLIC, 443)
    policies = NetworkPolicies([egress_only_to_x])
    assert policies.allows(open_pod, PUBLIC, 443)
    assert policies.allows(closed_pod, open_pod, 80)
    assert not policies.allows(closed_pod, open_pod, 81)
    assert not policies.allows(closed_pod, Pod("b", {"app": "x"}), 80)  # a podSelector alone: its own namespace
    assert not policies.allows(closed_pod, PUBLIC, 443)
