"""Schools, as the DfE register (Get Information About Schools) names them, and their outreach contact. No I/O.

A school is keyed by its URN. Its contact is an adult (a teacher or the school's outreach lead) whose name and
email are personal data: they are kept apart from the register's facts and are never published.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from medic.shared.contracts.outreach import SchoolPhase

MAX_NAME = 200
MAX_LA_NAME = 100
URN = re.compile(r"[0-9]{6}")
LAESTAB = re.compile(r"[0-9]{7}")
LA_CODE = re.compile(r"[0-9]{3}")
ESTABLISHMENT_NUMBER = re.compile(r"[0-9]{4}")
# The UK postcode's shape: outward code (area, district) then inward code (sector digit, unit letters).
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) *([0-9][A-Z]{2})")
# The same for the HTTP edge's schema: any case, spaces around and between the two codes.
POSTCODE_PATTERN = r"^ *[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *[0-9][A-Za-z]{2} *$"
EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class InvalidSchool(ValueError):
    """Bad input; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SchoolConflict(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SchoolNotFound(Exception):
    def __init__(self, urn: str) -> None:
        super().__init__(f"no school with the URN {urn}")
        self.field = "urn"


class ContactRole(StrEnum):
    TEACHER = "teacher"
    OUTREACH_LEAD = "outreach_lead"


def clean_urn(value: str, field: str = "urn") -> str:
    urn = value.strip()
    if not URN.fullmatch(urn):
        raise InvalidSchool(field, "a URN is 6 digits")
    return urn


def clean_laestab(value: str, field: str = "laestab") -> str:
    laestab = value.strip()
    if not LAESTAB.fullmatch(laestab):
        raise InvalidSchool(field, "a LAESTAB is 7 digits: the local authority's 3 and the establishment's 4")
    return laestab


def clean_la_code(value: str, field: str = "local_authority_code") -> str:
    code = value.strip()
    if not LA_CODE.fullmatch(code):
        raise InvalidSchool(field, "a local authority code is 3 digits")
    return code


def clean_establishment_number(value: str, field: str = "establishment_number") -> str:
    number = value.strip()
    if not ESTABLISHMENT_NUMBER.fullmatch(number):
        raise InvalidSchool(field, "an establishment number is 4 digits")
    return number


def clean_text(value: str, field: str, max_length: int = MAX_NAME) -> str:
    """Runs of spaces become one; empty, over-long or control characters are refused."""
    text = " ".join(value.split())
    if not text:
        raise InvalidSchool(field, "must not be blank")
    if len(text) > max_length:
        raise InvalidSchool(field, f"at most {max_length} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidSchool(field, "must not contain control characters")
    return text


def clean_postcode(value: str, field: str = "postcode") -> str:
    """A UK postcode, upper case with one space before the inward code: ` sw1a1aa ` -> `SW1A 1AA`."""
    match = POSTCODE.fullmatch(value.strip().upper())
    if match is None:
        raise InvalidSchool(field, "not a UK postcode (e.g. SW1A 1AA)")
    return f"{match.group(1)} {match.group(2)}"


def clean_email(value: str, field: str = "email") -> str:
    email = value.strip()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise InvalidSchool(field, "not an email address")
    return email


@dataclass(frozen=True)
class Contact:
    """The school's adult contact for outreach: personal data, kept in outreach only."""

    name: str
    email: str
    role: ContactRole

    @classmethod
    def create(cls, *, name: str, email: str, role: ContactRole) -> "Contact":
        return cls(name=clean_text(name, "name"), email=clean_email(email), role=role)


@dataclass(frozen=True)
class School:
    urn: str
    local_authority_code: str
    establishment_number: str
    name: str
    phase: SchoolPhase
    local_authority_name: str
    postcode: str
    state_funded: bool

    @property
    def laestab(self) -> str:
        return self.local_authority_code + self.establishment_number

    @classmethod
    def create(
        cls,
        *,
        urn: str,
        laestab: str,
        name: str,
        phase: SchoolPhase,
        local_authority_name: str,
        postcode: str,
        state_funded: bool,
    ) -> "School":
        laestab = clean_laestab(laestab)
        return cls(
            urn=clean_urn(urn),
            local_authority_code=laestab[:3],
            establishment_number=laestab[3:],
            name=clean_text(name, "name"),
            phase=phase,
            local_authority_name=clean_text(local_authority_name, "local_authority_name", MAX_LA_NAME),
            postcode=clean_postcode(postcode),
            state_funded=state_funded,
        )

    def changed(
        self,
        *,
        laestab: str | None = None,
        name: str | None = None,
        phase: SchoolPhase | None = None,
        local_authority_name: str | None = None,
        postcode: str | None = None,
        state_funded: bool | None = None,
    ) -> "School":
        """The school with the given fields changed (None: as it is), each checked as on creation."""
        return School.create(
            urn=self.urn,
            laestab=self.laestab if laestab is None else laestab,
            name=self.name if name is None else name,
            phase=self.phase if phase is None else phase,
            local_authority_name=self.local_authority_name if local_authority_name is None else local_authority_name,
            postcode=self.postcode if postcode is None else postcode,
            state_funded=self.state_funded if state_funded is None else state_funded,
        )
