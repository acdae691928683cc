"""The AsyncAPI documents the three services serve, validated by the official AsyncAPI parser.

`tools/asyncapi/validate.mjs` runs `@asyncapi/parser` on node (schema, `$ref`s, AMQP bindings, the
parser's rules, and the component key pattern). Its packages are installed with `npm ci` from the
committed lock file the first time, and again whenever the lock file changes. Without node and npm the
tests are skipped, except in CI where that is a failure.
"""

import copy
import fcntl
import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from medic.shared.asyncapi import AsyncAPIDocument
from medic.shared.contracts import ALL_EVENT_PAYLOADS, PartnerRegisteredV1
from tests import infra
from tests.harness import builder

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "asyncapi"
SERVICES = ("projects", "outreach", "notifications")
REGISTERED = PartnerRegisteredV1.event_type

Diagnostics = list[dict[str, str]]
Validate = Callable[[Mapping[str, AsyncAPIDocument]], "Validation"]


@dataclass(frozen=True)
class Validation:
    exit_code: int
    diagnostics: dict[str, Diagnostics]

    def errors(self, name: str) -> Diagnostics:
        """Errors and warnings: a document we serve must have neither."""
        return [d for d in self.diagnostics[name] if d["severity"] in ("Error", "Warning")]


def _node_with_parser() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "node and npm are needed to validate the AsyncAPI documents with @asyncapi/parser"
        if infra.in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    lock_file = TOOLS / "package-lock.json"
    installed = TOOLS / "node_modules" / ".package-lock.json"  # written by npm at the end of an install
    with lock_file.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time when several test runs share the checkout
        if not installed.exists() or installed.stat().st_mtime < lock_file.stat().st_mtime:
            # --ignore-scripts: the parser needs no install scripts, and one dependency's only reports usage.
            install = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
            result = subprocess.run(install, cwd=TOOLS, capture_output=True, text=True, timeout=600)
            if result.returncode != 0:
                pytest.fail(f"npm ci failed in {TOOLS}:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return node


@pytest.fixture(scope="session")
def validate(tmp_path_factory: pytest.TempPathFactory) -> Validate:
    node = _node_with_parser()
    directory = tmp_path_factory.mktemp("asyncapi")

    def run(documents: Mapping[str, AsyncAPIDocument]) -> Validation:
        files = {name: directory / f"{name}.json" for name in documents}
        for name, document in documents.items():
            files[name].write_text(json.dumps(document))
        command = [node, str(TOOLS / "validate.mjs"), *map(str, files.values())]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode not in (0, 1):
            pytest.fail(f"the validator did not run:\n{result.stderr}", pytrace=False)
        report = json.loads(result.stdout)
        return Validation(result.returncode, {name: report[str(path)] for name, path in files.items()})

    return run


@pytest.fixture(scope="session")
async def served() -> dict[str, AsyncAPIDocument]:
    """Each service's /asyncapi.json, as its HTTP app serves it (built with its default settings)."""
    documents = {}
    for name in SERVICES:
        build, settings = builder(name)
        app = build(settings()).app
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}") as client:
            response = await client.get("/asyncapi.json")
            assert response.status_code == 200
            documents[name] = response.json()
    return documents


def test_every_service_serves_a_valid_asyncapi_3_document(
    validate: Validate, served: dict[str, AsyncAPIDocument]
) -> None:
    validation = validate(served)

    assert validation.exit_code == 0, validation.diagnostics
    for name in SERVICES:
        assert served[name]["asyncapi"] == "3.0.0"
        assert validation.errors(name) == [], name


def test_an_invalid_document_fails_validation(validate: Validate, served: dict[str, AsyncAPIDocument]) -> None:
    """Each defect alone fails: the validator is no rubber stamp."""
    valid = served["projects"]
    bad_key = copy.deepcopy(valid)  # what FastStream generated before: a key AsyncAPI 3 forbids
    schemas = bad_key["components"]["schemas"]
    schemas["Envelope[PartnerRegisteredV1]"] = schemas["PartnerRegisteredV1"]
    dangling_ref = copy.deepcopy(valid)
    dangling_ref["components"]["messages"][REGISTERED]["payload"]["properties"]["data"] = {
        "$ref": "#/components/schemas/PartnerRegisteredV2"
    }
    wrong_binding = copy.deepcopy(valid)
    wrong_binding["channels"][REGISTERED]["bindings"]["amqp"]["is"] = "queue"  # with an exchange, no queue

    validation = validate({"bad-key": bad_key, "dangling-ref": dangling_ref, "wrong-binding": wrong_binding})

    assert validation.exit_code == 1
    assert any("Envelope[PartnerRegisteredV1]" in d["path"] for d in validation.errors("bad-key"))
    assert any(d["code"] == "invalid-ref" for d in validation.errors("dangling-ref"))
    assert any(d["path"].startswith(f"channels/{REGISTERED}/bindings") for d in validation.errors("wrong-binding"))


def test_each_contract_is_published_by_the_service_its_source_names(served: dict[str, AsyncAPIDocument]) -> None:
    for payload in ALL_EVENT_PAYLOADS:
        publisher = payload.source.removeprefix("/services/")
        for name, document in served.items():
            sends = {operation["channel"]["$ref"] for operation in document["operations"].values()}
            assert (f"#/channels/{payload.event_type}" in sends) == (name == publisher), (payload, name)


def test_consumers_describe_what_they_receive_by_its_contract(served: dict[str, AsyncAPIDocument]) -> None:
    outreach = served["outreach"]
    assert list(outreach["channels"]["medic.outreach.events"]["messages"]) == [REGISTERED]
    data = outreach["components"]["messages"][REGISTERED]["payload"]["properties"]["data"]
    assert data == {"$ref": "#/components/schemas/PartnerRegisteredV1"}  # not a free-form dict

    notifications = served["notifications"]
    received = notifications["channels"]["medic.notifications.events"]["messages"]
    assert set(received) == {payload.event_type for payload in ALL_EVENT_PAYLOADS}
