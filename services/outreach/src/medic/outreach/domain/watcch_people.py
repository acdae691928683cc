"""WATCCH participants' personal details, and the referee's link. No I/O.

A participant is known everywhere by a random pseudonymous id. What identifies them (names, date of birth, email,
phone, home postcode, a parent's or guardian's name and contact), their referee's name and email, their answers to
the form's questions and coordinators' notes about them are `PersonalDetails`: stored in one place, shown to
coordinators on the single application view only, never published or logged, and erased in one step.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from medic.shared.signed_links import SignedLink

from .schools import InvalidSchool, clean_email, clean_postcode, clean_text
from .watcch import InvalidWatcch

MAX_ANSWER = 2000
PHONE_DIGITS = (7, 15)


def _clean_phone(value: str | None, field_name: str) -> str | None:
    if value is None:
        return None
    phone = " ".join(value.split())
    digits = phone.replace(" ", "").removeprefix("+")
    if not digits.isdigit() or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
        raise InvalidWatcch(field_name, "a phone number of 7 to 15 digits (spaces and a leading + allowed)")
    return phone


@dataclass(frozen=True)
class PersonalDetails:
    given_name: str
    family_name: str
    date_of_birth: date
    email: str
    home_postcode: str
    guardian_name: str
    phone: str | None = None
    guardian_email: str | None = None
    guardian_phone: str | None = None
    referee_name: str | None = None
    referee_email: str | None = None
    answers: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def create(cls, *, questions: tuple[str, ...], answers: Mapping[str, str], **fields: Any) -> "PersonalDetails":
        """Checked and tidied; every one of the cycle's questions answered, and nothing else."""
        try:
            details = cls(
                given_name=clean_text(fields["given_name"], "given_name", 100),
                family_name=clean_text(fields["family_name"], "family_name", 100),
                date_of_birth=fields["date_of_birth"],
                email=clean_email(fields["email"]).lower(),
                home_postcode=clean_postcode(fields["home_postcode"], "home_postcode"),
                guardian_name=clean_text(fields["guardian_name"], "guardian_name"),
                phone=_clean_phone(fields.get("phone"), "phone"),
                guardian_email=None
                if fields.get("guardian_email") is None
                else clean_email(fields["guardian_email"], "guardian_email").lower(),
                guardian_phone=_clean_phone(fields.get("guardian_phone"), "guardian_phone"),
                referee_name=None
                if fields.get("referee_name") is None
                else clean_text(fields["referee_name"], "referee_name"),
                referee_email=None
                if fields.get("referee_email") is None
                else clean_email(fields["referee_email"], "referee_email").lower(),
                answers={q: clean_text(answers.get(q, ""), "answers", MAX_ANSWER) for q in questions},
            )
        except InvalidSchool as invalid:
            raise InvalidWatcch(invalid.field, str(invalid)) from None
        if unknown := set(answers) - set(questions):
            raise InvalidWatcch("answers", f"{len(unknown)} answer(s) to questions this cycle does not ask")
        if details.guardian_email is None and details.guardian_phone is None:
            raise InvalidWatcch("guardian_email", "give the parent's or guardian's email or phone")
        return details

    def values(self) -> dict[str, Any]:
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "date_of_birth": self.date_of_birth,
            "email": self.email,
            "phone": self.phone,
            "home_postcode": self.home_postcode,
            "guardian_name": self.guardian_name,
            "guardian_email": self.guardian_email,
            "guardian_phone": self.guardian_phone,
            "referee_name": self.referee_name,
            "referee_email": self.referee_email,
            "answers": dict(self.answers),
            "notes": [dict(n) for n in self.notes],
        }

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> "PersonalDetails":
        names = set(cls.__dataclass_fields__) - {"answers", "notes"}
        return cls(
            **{n: row[n] for n in names},
            answers=dict(row["answers"]),
            notes=tuple(dict(n) for n in row["notes"]),
        )


class RefereeAnswer(StrEnum):
    CONFIRMED = "confirmed"  # the referee confirms the applicant is their student and supports the application
    NOT_CONFIRMED = "not_confirmed"


@dataclass(kw_only=True)
class RefereeLink(SignedLink[RefereeAnswer]):
    """A teacher's link to confirm one application (the shared signed-link rules)."""

    id: uuid.UUID
    application_id: uuid.UUID

    expired_reason: ClassVar[str] = "this link has expired; ask the WATCCH coordinator for a new one"
