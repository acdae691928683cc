"""configure_logging: one JSON object per line, service and context on every line, personal data redacted."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from medic.shared.logging import (
    REDACTED,
    configure_logging,
    get_logger,
    redact,
    redact_personal_fields,
)

_TOUCHED_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "faststream",
    "aio_pika",
    "aiormq",
    "sqlalchemy.engine",
)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    loggers = {name: logging.getLogger(name) for name in _TOUCHED_LOGGERS}
    saved = {name: (lg.handlers[:], lg.level, lg.propagate) for name, lg in loggers.items()}
    saved_structlog = structlog.get_config()
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
        root.handlers[:], root.level = saved_root
        for name, (handlers, level, propagate) in saved.items():
            lg = logging.getLogger(name)
            lg.handlers[:], lg.propagate = handlers, propagate
            lg.setLevel(level)
        structlog.configure(**saved_structlog)


@pytest.fixture
def stream(restore_logging: None) -> io.StringIO:
    out = io.StringIO()
    configure_logging("test-svc", "INFO", stream=out)
    return out


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]  # each line alone must be a JSON object


def test_one_json_object_per_line_with_service(stream: io.StringIO) -> None:
    log = get_logger("medic.test")
    log.info("first.thing", count=1)
    log.warning("second.thing", text="spans\ntwo lines")
    logging.getLogger("faststream").info("from the standard library %s", "with args")

    records = _records(stream)

    assert [r["event"] for r in records] == ["first.thing", "second.thing", "from the standard library with args"]
    assert all(isinstance(r, dict) for r in records)
    assert [r["level"] for r in records] == ["info", "warning", "info"]
    assert [r["logger"] for r in records] == ["medic.test", "medic.test", "faststream"]
    assert {r["service"] for r in records} == {"test-svc"}
    assert all(r["timestamp"].endswith("Z") for r in records)
    assert records[0]["count"] == 1
    assert records[1]["text"] == "spans\ntwo lines"


def test_level_filters_structlog_and_standard_library(restore_logging: None) -> None:
    logging.getLogger("faststream").setLevel(logging.INFO)  # as importing FastStream does
    out = io.StringIO()
    configure_logging("test-svc", "warning", stream=out)

    get_logger("medic.test").info("hidden.info")
    logging.getLogger("faststream").info("hidden stdlib info")
    get_logger("medic.test").warning("shown.warning")
    logging.getLogger("aio_pika").warning("shown stdlib warning")

    assert [r["event"] for r in _records(out)] == ["shown.warning", "shown stdlib warning"]


def test_debug_level_reaches_library_loggers(restore_logging: None) -> None:
    logging.getLogger("faststream").setLevel(logging.INFO)  # as importing FastStream does
    out = io.StringIO()
    configure_logging("test-svc", "DEBUG", stream=out)

    get_logger("medic.test").debug("structlog.debug")
    logging.getLogger("faststream").debug("faststream debug")
    logging.getLogger("aio_pika").info("still quiet")  # library chatter stays at WARNING

    assert [r["event"] for r in _records(out)] == ["structlog.debug", "faststream debug"]


def test_library_chatter_is_quiet_at_info(stream: io.StringIO) -> None:
    logging.getLogger("aio_pika").info("connection details")
    logging.getLogger("sqlalchemy.engine").info("SELECT 1")
    logging.getLogger("aiormq").warning("kept")

    assert [r["event"] for r in _records(stream)] == ["kept"]


def test_bound_context_is_on_structlog_and_stdlib_lines(stream: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(correlation_id="3f8e1c9a-0000-4000-8000-000000000001", event_id="e-1")
    get_logger("medic.test").info("with.context")
    logging.getLogger("faststream").info("stdlib with context")
    structlog.contextvars.clear_contextvars()
    get_logger("medic.test").info("without.context")

    first, second, third = _records(stream)
    assert first["correlation_id"] == second["correlation_id"] == "3f8e1c9a-0000-4000-8000-000000000001"
    assert first["event_id"] == second["event_id"] == "e-1"
    assert "correlation_id" not in third
    assert "event_id" not in third


def test_personal_keys_are_redacted_at_any_depth(stream: io.StringIO) -> None:
    get_logger("medic.test").info(
        "partner.registered",
        email="alice@example.org",
        Phone="07700 900123",
        partner={
            "kind": "school",
            "contact": {"full_name": "Alice Example", "address": "1 High Street"},
            "people": [{"name": "Bob Example", "role": "lead"}, ("tuple", {"postcode": "AB1 2CD"})],
        },
        count=2,
    )

    raw = stream.getvalue()
    for personal in ("alice@example.org", "07700 900123", "Alice Example", "1 High Street", "Bob Example", "AB1 2CD"):
        assert personal not in raw
    (record,) = _records(stream)
    assert record["email"] == REDACTED
    assert record["Phone"] == REDACTED
    assert record["partner"]["kind"] == "school"
    assert record["partner"]["contact"] == {"full_name": REDACTED, "address": REDACTED}
    assert record["partner"]["people"][0] == {"name": REDACTED, "role": "lead"}
    assert record["partner"]["people"][1] == ["tuple", {"postcode": REDACTED}]
    assert record["count"] == 2


def test_standard_library_extra_is_redacted(stream: io.StringIO) -> None:
    logging.getLogger("faststream").info(
        "x", extra={"email": "a@b", "details": {"token": "abc.def.ghi", "ok": True}, "message_id": "m-1"}
    )

    raw = stream.getvalue()
    assert "a@b" not in raw
    assert "abc.def.ghi" not in raw
    (record,) = _records(stream)
    assert record["event"] == "x"
    assert record["email"] == REDACTED
    assert record["details"] == {"token": REDACTED, "ok": True}
    assert record["message_id"] == "m-1"
    assert record["service"] == "test-svc"


def _raise_with_a_secret_local() -> None:
    secret_in_a_local = "s3cr3t-local-value-7f2a"
    raise ValueError(f"failed after {len(secret_in_a_local)} characters")


@pytest.mark.parametrize("source", ["structlog", "stdlib"])
def test_exceptions_are_rendered_without_local_variables(stream: io.StringIO, source: str) -> None:
    try:
        _raise_with_a_secret_local()
    except ValueError:
        if source == "structlog":
            get_logger("medic.test").exception("handler.failed")
        else:
            logging.getLogger("faststream").error("handler failed", exc_info=True)

    raw = stream.getvalue()
    assert "s3cr3t-local-value-7f2a" not in raw
    assert len(raw.splitlines()) == 1  # no multi-line traceback text after the JSON
    (record,) = _records(stream)
    (exception,) = record["exception"]
    assert exception["exc_type"] == "ValueError"
    assert exception["exc_value"] == "[redacted]"  # messages may echo input: only type and frames are kept
    frames = exception["frames"]
    assert all(not frame.get("locals") for frame in frames)
    # Function names are code, not personal data: a traceback is useless without them.
    assert frames[-1]["name"] == "_raise_with_a_secret_local"
    assert "exc_info" not in record


def test_uvicorn_color_message_is_dropped(stream: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 42, extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"}
    )

    (record,) = _records(stream)
    assert record["event"] == "Started server process [42]"
    assert "color_message" not in record
    assert "\\u001b" not in stream.getvalue()


def test_reconfiguring_replaces_the_handler(restore_logging: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("one", stream=first)
    configure_logging("two", stream=second)

    logging.getLogger("faststream").info("once")

    assert first.getvalue() == ""
    assert [r["service"] for r in _records(second)] == ["two"]


def test_redact_copies_and_leaves_other_values() -> None:
    original = {"email": "e", "nested": [{"Password": "p"}], "n": 1, "s": "email"}

    redacted = redact(original)

    assert redacted == {"email": REDACTED, "nested": [{"Password": REDACTED}], "n": 1, "s": "email"}
    assert original["email"] == "e"  # not mutated
    assert redact("plain") == "plain"
    assert redact(("a", {"dob": "1990-01-01"})) == ["a", {"dob": REDACTED}]


def test_processor_keeps_the_event_message() -> None:
    out = redact_personal_fields(None, "info", {"event": "name", "name": "Alice", "secret": {"x": 1}})
    assert out == {"event": "name", "name": REDACTED, "secret": REDACTED}


@pytest.mark.parametrize(
    "key", ["contactEmail", "parent_email", "student_name", "mobile", "Date-Of-Birth", "home_address"]
)
def test_personal_keys_are_recognised_in_any_spelling(key: str) -> None:
    from medic.shared.logging import REDACTED, redact

    assert redact({"outer": [{key: "Alice Example, 07700 900123"}]}) == {"outer": [{key: REDACTED}]}


def test_ordinary_keys_are_kept() -> None:
    from medic.shared.logging import redact

    kept = {"event_id": "e1", "kind": "charity", "areas_of_work": ["food"], "status": 201, "path": "/partners"}
    assert redact(kept) == kept
