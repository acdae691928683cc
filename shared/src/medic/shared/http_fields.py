"""Field types for HTTP APIs whose OpenAPI schema says exactly what the code accepts, no more and no less.

A client (or a fuzzer) reading the document must be able to predict the answer: anything the schema allows is
accepted, anything it forbids is a 422 naming the field.
"""

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

# For free-text fields: no control characters (PostgreSQL refuses NUL; none belongs in a name).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"

# The characters Python's str.split() treats as whitespace, once control characters are excluded.
_SPACE = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# For names: no control characters, and something besides spaces (a name of spaces collapses to nothing).
VISIBLE_TEXT = rf"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f{_SPACE}][^\x00-\x1f\x7f]*$"

# An address as people and mail servers write it: a dot-atom local part and a domain of LDH labels, at least
# two. Syntax only: reserved test domains (`.test`, `.example`) are accepted, delivery is not checked.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+$"
EmailAddress = Annotated[
    str,
    Field(
        max_length=254,
        pattern=EMAIL_PATTERN,
        description="An email address (syntax only; stored lower-case)",
        examples=["hello@riverside.example"],
    ),
]

# RFC 3339 `date-time` (what OpenAPI's `format: date-time` means): the offset is required, and a bare number
# is not a time (pydantic alone would read `0.5` as Unix time).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339_text(value: object) -> object:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("expected an RFC 3339 date-time with an offset, e.g. 2026-03-01T09:00:00Z")
    return value


Rfc3339DateTime = Annotated[
    datetime,
    BeforeValidator(_rfc3339_text),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# A calendar date, `YYYY-MM-DD` text and nothing else: lax pydantic would also read a number (Unix time) or a
# date-time, and its strict date refuses the text FastAPI hands it. A `date` built in code passes as it is.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD, e.g. 2027-01-20")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text), WithJsonSchema({"type": "string", "format": "date"})]


def _not_text(value: object) -> object:
    if isinstance(value, str | bool):
        raise ValueError("expected a whole number, not text")
    return value


# For whole numbers: JSON Schema's "integer" includes 89.0 (pydantic's strict int refuses it) but not the text "3"
# (its lax int takes it). Put it after the bounds: `Annotated[int, Field(ge=1, le=5), NOT_TEXT]` (in front,
# pydantic loses them from the schema).
NOT_TEXT = BeforeValidator(_not_text)
