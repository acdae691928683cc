"""structlog JSON logging: one line per record, personal fields redacted, no locals in tracebacks.

Standard-library loggers (FastStream, aio-pika, SQLAlchemy, uvicorn) are routed through the same
processors, so their records are JSON, carry the bound context and are redacted too.
"""

import logging
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.types import EventDict, Processor, WrappedLogger

# Keys whose values are personal data (or secrets) wherever they appear in a log record or event log.
# A key matches when, lower-cased and stripped of `_`/`-`, it contains one of these: so `contactEmail`,
# `parent_email`, `student_name` and `mobile_phone` are caught too. Over-redacting is the safe side.
PERSONAL_KEY_FRAGMENTS: tuple[str, ...] = (
    "name",
    "email",
    "phone",
    "mobile",
    "address",
    "postcode",
    "birth",
    "dob",
    "password",
    "token",
    "authorization",
    "secret",
)
REDACTED = "[redacted]"


def is_personal_key(key: object) -> bool:
    normalised = str(key).lower().replace("_", "").replace("-", "")
    return any(fragment in normalised for fragment in PERSONAL_KEY_FRAGMENTS)


def redact(value: Any) -> Any:
    """Return a copy of `value` with the values of personal keys replaced, at any depth."""
    if isinstance(value, Mapping):
        return {k: REDACTED if is_personal_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """uvicorn adds an ANSI-coloured copy of each message; JSON lines do not need it."""
    event_dict.pop("color_message", None)
    return event_dict


def redact_personal_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the record's own keys and nested values alike.

    The rendered `exception` is handled by `redact_exception_messages`: its frames' `name` is the
    function's, and with `show_locals=False` its only values from the program are the messages.
    """
    return {
        k: v if k == "exception" else REDACTED if k != "event" and is_personal_key(k) else redact(v)
        for k, v in event_dict.items()
    }


def redact_exception_messages(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Keep each exception's type and frames, drop its message: messages echo input (validation errors)
    and SQL parameters, which may be personal data. Our own log lines name the problem instead."""
    exception = event_dict.get("exception")
    if isinstance(exception, list):
        event_dict["exception"] = [_without_messages(e) for e in exception]
    return event_dict


def _without_messages(exception: Any) -> Any:
    if not isinstance(exception, dict):
        return exception
    cleaned = {k: REDACTED if k in ("exc_value", "exc_notes") and v else v for k, v in exception.items()}
    if isinstance(cleaned.get("exceptions"), list):  # exception groups
        cleaned["exceptions"] = [[_without_messages(e) for e in group] for group in cleaned["exceptions"]]
    return cleaned


def _add_service(service: str) -> Processor:
    def add_service(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def _shared_processors(service: str) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_service(service),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # show_locals=False: a handler's locals may hold personal data.
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        redact_exception_messages,
        drop_color_message,
        redact_personal_fields,
    ]


def configure_logging(service: str, level: str = "INFO", stream: Any = None) -> None:
    """Configure structlog and the standard library to write JSON lines to `stream` (stderr)."""
    shared = _shared_processors(service)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aio_pika", "aiormq"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)  # FastStream sets its own INFO on import: `level` must decide
    # Library chatter that says nothing an operator needs at INFO.
    for name in ("aio_pika", "aiormq", "sqlalchemy.engine", "alembic"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> Any:
    return structlog.stdlib.get_logger(name)
