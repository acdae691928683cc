"""A CAP year's set-up: cohorts, GP practices, supervisors, students and the groups they form. No I/O here.

Group size rule: a group may be created empty and filled one student at a time. It never holds more than its
cohort's maximum. Once it has reached the cohort's minimum it is *formed* and never drops below the minimum
again: to swap a student, add the new one first, or re-import the group's whole membership from CSV (an import
sets a group's students at once, and then its size must be within the range).
"""

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from medic.shared.http_fields import EMAIL_PATTERN

# Group sizes a cohort may choose between (the default range comes from the settings).
SMALLEST_GROUP = 1
LARGEST_GROUP = 20

ODS_CODE = re.compile(r"[A-Za-z][0-9]{5}")  # a GP practice: a letter and five digits, e.g. Y03053, E85001
UNIVERSITY_ID = re.compile(r"[0-9]{6,12}")
# A user's id (a token's `sub`): visible ASCII, no spaces, as identity providers issue them.
USER_ID_PATTERN = r"[!-~]{1,200}"
USER_ID = re.compile(USER_ID_PATTERN)
EMAIL = re.compile(EMAIL_PATTERN)
MAX_NAME = 200
MAX_AREA = 100
MAX_GROUP_NAME = 100
MAX_EMAIL = 254


def academic_years_pattern() -> str:
    """A regular expression matching exactly the academic years 2000-01 to 2099-00 (`YYYY-YY`, YY = YYYY + 1).

    Spelled out so the HTTP schema says exactly what is accepted."""
    pairs = "|".join(f"{n:02d}-{(n + 1) % 100:02d}" for n in range(100))
    return rf"^20(?:{pairs})$"


ACADEMIC_YEAR = re.compile(academic_years_pattern())


class InvalidSetup(ValueError):
    """Input that breaks a rule of its own (a malformed code, a blank name): the field at fault and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SetupConflict(Exception):
    """A change the current state does not allow (a duplicate, a full group): the field at fault and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SetupNotFound(LookupError):
    """An id that names nothing the caller may see. `field` names the input that held it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def clean_name(value: str, field: str, max_length: int = MAX_NAME) -> str:
    """Runs of spaces collapsed; blank or too long is refused."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidSetup(field, "must not be blank")
    if len(cleaned) > max_length:
        raise InvalidSetup(field, f"at most {max_length} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned):
        raise InvalidSetup(field, "must not contain control characters")
    return cleaned


def clean_email(value: str, field: str = "email") -> str:
    cleaned = value.strip()
    if len(cleaned) > MAX_EMAIL or not EMAIL.fullmatch(cleaned):
        raise InvalidSetup(field, "must be an email address such as name@example.ac.uk")
    return cleaned.lower()


def clean_ods_code(value: str, field: str = "ods_code") -> str:
    cleaned = value.strip()
    if not ODS_CODE.fullmatch(cleaned):
        raise InvalidSetup(field, "must be a GP practice's NHS ODS code: a letter and five digits, e.g. Y03053")
    return cleaned.upper()


def clean_university_id(value: str, field: str = "university_id") -> str:
    cleaned = value.strip()
    if not UNIVERSITY_ID.fullmatch(cleaned):
        raise InvalidSetup(field, "must be a university id of 6 to 12 digits")
    return cleaned


def clean_user_id(value: str, field: str = "user_id") -> str:
    cleaned = value.strip()
    if not USER_ID.fullmatch(cleaned):
        raise InvalidSetup(field, "must be the user's id (the token's `sub`): 1 to 200 visible ASCII characters")
    return cleaned


def check_academic_year(value: str, field: str = "academic_year") -> str:
    cleaned = value.strip()
    if not ACADEMIC_YEAR.fullmatch(cleaned):
        raise InvalidSetup(field, "must be an academic year YYYY-YY whose second year follows the first, e.g. 2026-27")
    return cleaned


@dataclass(frozen=True)
class Viewer:
    """Who is reading, as far as set-up visibility goes. `subject` is the token's `sub`: a supervisor's `user_id`
    or a student's `university_id`."""

    subject: str
    sees_everything: bool = False  # coordinators
    as_supervisor: bool = False  # sees the groups they supervise, their students, cohorts and practices
    as_student: bool = False  # sees their own group and their own record


@dataclass(frozen=True)
class Cohort:
    id: uuid.UUID
    academic_year: str
    placement_start: date
    placement_end: date
    min_group_size: int
    max_group_size: int
    created_at: datetime

    @classmethod
    def create(
        cls,
        *,
        academic_year: str,
        placement_start: date,
        placement_end: date,
        min_group_size: int,
        max_group_size: int,
        now: datetime,
    ) -> "Cohort":
        cohort = cls(
            id=uuid.uuid4(),
            academic_year=check_academic_year(academic_year),
            placement_start=placement_start,
            placement_end=placement_end,
            min_group_size=min_group_size,
            max_group_size=max_group_size,
            created_at=now,
        )
        cohort.check()
        return cohort

    def changed(
        self,
        *,
        placement_start: date | None = None,
        placement_end: date | None = None,
        min_group_size: int | None = None,
        max_group_size: int | None = None,
    ) -> "Cohort":
        cohort = replace(
            self,
            placement_start=placement_start or self.placement_start,
            placement_end=placement_end or self.placement_end,
            min_group_size=self.min_group_size if min_group_size is None else min_group_size,
            max_group_size=self.max_group_size if max_group_size is None else max_group_size,
        )
        cohort.check()
        return cohort

    def check(self) -> None:
        """Each field on its own is `InvalidSetup`; fields that contradict each other are a `SetupConflict`
        (each value may be fine: which one is wrong depends on the other, possibly the stored one)."""
        for field, size in (("min_group_size", self.min_group_size), ("max_group_size", self.max_group_size)):
            if not SMALLEST_GROUP <= size <= LARGEST_GROUP:
                raise InvalidSetup(field, f"a group size is between {SMALLEST_GROUP} and {LARGEST_GROUP}")
        if self.placement_start >= self.placement_end:
            raise SetupConflict("placement_end", "the placement must end after it starts")
        if self.min_group_size > self.max_group_size:
            raise SetupConflict("max_group_size", "the largest group size must not be below the smallest")

    def check_group_sizes(self, sizes: list[int], *, before: "Cohort") -> None:
        """A new size range must keep every group of the cohort valid: none over the maximum, and none that was
        formed under the old minimum left below the new one."""
        if any(size > self.max_group_size for size in sizes):
            raise SetupConflict("max_group_size", "a group of this cohort has more students than that")
        if any(before.min_group_size <= size < self.min_group_size for size in sizes):
            raise SetupConflict("min_group_size", "a formed group of this cohort has fewer students than that")


@dataclass(frozen=True)
class Practice:
    id: uuid.UUID
    name: str
    ods_code: str
    area: str
    created_at: datetime

    @classmethod
    def create(cls, *, name: str, ods_code: str, area: str, now: datetime) -> "Practice":
        return cls(
            id=uuid.uuid4(),
            name=clean_name(name, "name"),
            ods_code=clean_ods_code(ods_code),
            area=clean_name(area, "area", MAX_AREA),
            created_at=now,
        )

    def changed(self, *, name: str | None = None, ods_code: str | None = None, area: str | None = None) -> "Practice":
        return replace(
            self,
            name=self.name if name is None else clean_name(name, "name"),
            ods_code=self.ods_code if ods_code is None else clean_ods_code(ods_code),
            area=self.area if area is None else clean_name(area, "area", MAX_AREA),
        )


@dataclass(frozen=True)
class Supervisor:
    """A GP tutor. Name and email are personal data: they leave only in `projects.contact_address.set.v1`."""

    id: uuid.UUID
    user_id: str
    name: str
    email: str
    practice_ids: frozenset[uuid.UUID]
    created_at: datetime

    @classmethod
    def create(
        cls, *, user_id: str, name: str, email: str, practice_ids: list[uuid.UUID], now: datetime
    ) -> "Supervisor":
        return cls(
            id=uuid.uuid4(),
            user_id=clean_user_id(user_id),
            name=clean_name(name, "name"),
            email=clean_email(email),
            practice_ids=frozenset(practice_ids),
            created_at=now,
        )

    def changed(
        self, *, name: str | None = None, email: str | None = None, practice_ids: list[uuid.UUID] | None = None
    ) -> "Supervisor":
        return replace(
            self,
            name=self.name if name is None else clean_name(name, "name"),
            email=self.email if email is None else clean_email(email),
            practice_ids=self.practice_ids if practice_ids is None else frozenset(practice_ids),
        )


@dataclass(frozen=True)
class Student:
    """A Year 3 student. Name and email are personal data: they leave only in `projects.contact_address.set.v1`."""

    id: uuid.UUID
    university_id: str
    name: str
    email: str
    created_at: datetime

    @classmethod
    def create(cls, *, university_id: str, name: str, email: str, now: datetime) -> "Student":
        return cls(
            id=uuid.uuid4(),
            university_id=clean_university_id(university_id),
            name=clean_name(name, "name"),
            email=clean_email(email),
            created_at=now,
        )

    def changed(self, *, name: str, email: str) -> "Student":
        return replace(self, name=clean_name(name, "name"), email=clean_email(email))


@dataclass(frozen=True)
class Group:
    """Students of one cohort on one GP practice, with their supervisors (ids kept sorted, so equal groups compare
    equal however they were built)."""

    id: uuid.UUID
    cohort_id: uuid.UUID
    practice_id: uuid.UUID
    name: str
    student_ids: tuple[uuid.UUID, ...]
    supervisor_ids: tuple[uuid.UUID, ...]
    created_at: datetime

    @classmethod
    def create(cls, *, cohort: Cohort, practice_id: uuid.UUID, name: str, now: datetime) -> "Group":
        return cls(
            id=uuid.uuid4(),
            cohort_id=cohort.id,
            practice_id=practice_id,
            name=clean_name(name, "name", MAX_GROUP_NAME),
            student_ids=(),
            supervisor_ids=(),
            created_at=now,
        )

    def is_formed(self, cohort: Cohort) -> bool:
        return len(self.student_ids) >= cohort.min_group_size

    def with_student(self, student_id: uuid.UUID, cohort: Cohort) -> "Group":
        """The group with the student added (itself if already in). The caller checks the student is in no other
        group of the cohort."""
        if student_id in self.student_ids:
            return self
        if len(self.student_ids) >= cohort.max_group_size:
            raise SetupConflict("student_id", f"the group is full: at most {cohort.max_group_size} students")
        return replace(self, student_ids=tuple(sorted((*self.student_ids, student_id))))

    def without_student(self, student_id: uuid.UUID, cohort: Cohort) -> "Group":
        if student_id not in self.student_ids:
            raise SetupNotFound("student_id", "that student is not in this group")
        if self.is_formed(cohort) and len(self.student_ids) - 1 < cohort.min_group_size:
            raise SetupConflict(
                "student_id",
                f"a formed group keeps at least {cohort.min_group_size} students: add the replacement first",
            )
        return replace(self, student_ids=tuple(s for s in self.student_ids if s != student_id))

    def with_supervisor(self, supervisor_id: uuid.UUID) -> "Group":
        if supervisor_id in self.supervisor_ids:
            return self
        return replace(self, supervisor_ids=tuple(sorted((*self.supervisor_ids, supervisor_id))))

    def without_supervisor(self, supervisor_id: uuid.UUID) -> "Group":
        if supervisor_id not in self.supervisor_ids:
            raise SetupNotFound("supervisor_id", "that supervisor does not supervise this group")
        if len(self.supervisor_ids) == 1:
            raise SetupConflict("supervisor_id", "a group keeps at least one supervisor: add the replacement first")
        return replace(self, supervisor_ids=tuple(s for s in self.supervisor_ids if s != supervisor_id))

    def with_members(
        self,
        *,
        practice_id: uuid.UUID,
        student_ids: list[uuid.UUID],
        supervisor_ids: list[uuid.UUID],
        cohort: Cohort,
    ) -> "Group":
        """The group as an import describes it: its whole membership at once, its size within the range."""
        students = tuple(sorted(set(student_ids)))
        if not cohort.min_group_size <= len(students) <= cohort.max_group_size:
            raise SetupConflict(
                "student_university_id",
                f"group {self.name!r} would have {len(students)} students: "
                f"the cohort's groups have {cohort.min_group_size} to {cohort.max_group_size}",
            )
        return replace(
            self, practice_id=practice_id, student_ids=students, supervisor_ids=tuple(sorted(set(supervisor_ids)))
        )
