"""Request body fields read as JSON Schema says, not as lax pydantic would.

A date is "YYYY-MM-DD" text only: lax pydantic reads the number 0 as 1970-01-01, and its strict date refuses the
string FastAPI hands it (the body is parsed before it is validated), so the text is checked, then read.
A whole number is a JSON number only: JSON Schema's "integer" includes 89.0 (strict int refuses it), and lax int
would take the text "3".
"""

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_text(value: object) -> object:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


def _a_number(value: object) -> object:
    if isinstance(value, str | bool):
        raise ValueError("expected a whole number, not text")
    return value


IsoDate = Annotated[date, BeforeValidator(_date_text), WithJsonSchema({"type": "string", "format": "date"})]
# After the int's bounds: `Annotated[int, Field(ge=1, le=5), NOT_TEXT]` (in front, pydantic loses them from the schema)
NOT_TEXT = BeforeValidator(_a_number)
