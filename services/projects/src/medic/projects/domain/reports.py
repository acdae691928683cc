"""What a cohort's projects add up to, and how a project reads as one row of an export. No I/O.

Reports count projects and people reached; they name organisations (partners, practices, groups) but never a
person. Marks appear only as a distribution: how many projects' moderated marks fall in each band.
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .lifecycle import State
from .project import IHI_SCORES, Audience, AuditCodes


@dataclass(frozen=True)
class PartnerRef:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ProjectRecord:
    """What reports and exports need of one project, with the names of its group, practice and partners."""

    id: uuid.UUID
    academic_year: str
    group_name: str
    practice_name: str
    ods_code: str
    title: str
    topic: str
    state: State
    partners: tuple[PartnerRef, ...]  # the lead partner first
    reach: Mapping[Audience, int]  # people reached, summed over the delivery sessions
    delivery_sessions: int
    ihi_score: float | None
    audit_codes: AuditCodes
    created_at: datetime
    updated_at: datetime

    @property
    def reach_total(self) -> int:
        return sum(self.reach.values())


class Scope(StrEnum):
    COHORT = "cohort"  # every project of the cohort (coordinators)
    SUPERVISED_GROUPS = "supervised_groups"  # the projects of the groups the caller supervises


@dataclass(frozen=True)
class Tally:
    """Projects counted under a free-text label (a topic), whichever way its spelling varies."""

    label: str
    projects: int


@dataclass(frozen=True)
class PartnerTally:
    partner: PartnerRef
    projects: int  # that it takes part in
    as_lead: int  # that it leads


@dataclass(frozen=True)
class CohortReport:
    cohort_id: uuid.UUID
    academic_year: str
    scope: Scope
    projects: int
    by_state: Mapping[State, int]  # every state, zero included
    by_topic: tuple[Tally, ...]  # most projects first
    by_partner: tuple[PartnerTally, ...]  # most projects first
    delivery_sessions: int
    reach_by_audience: Mapping[Audience, int]  # every audience, zero included
    reach_total: int
    audit_flags: Mapping[str, int]  # projects coded true for needs analysis, patient involvement, sustainable impact
    audit_topics: tuple[Tally, ...]  # uncoded (blank) left out
    audit_formats: tuple[Tally, ...]
    ihi_scores: Mapping[float, int]  # every score 0.5 ... 5.0, zero included
    ihi_unscored: int
    marks_by_band: Mapping[str, int]  # moderated marks (weighted percentages) per band, every band included
    marks_not_moderated: int  # projects without moderated marks yet


# Bands of a moderated mark (a weighted percentage), lowest first: (label, lowest percentage in the band).
MARK_BANDS = (("0-39", 0.0), ("40-49", 40.0), ("50-59", 50.0), ("60-69", 60.0), ("70-100", 70.0))


def mark_band(percentage: float) -> str:
    return next(label for label, lowest in reversed(MARK_BANDS) if percentage >= lowest)


AUDIT_FLAGS = ("needs_analysis", "patient_involvement", "sustainable_impact")


def cohort_report(
    cohort_id: uuid.UUID,
    academic_year: str,
    scope: Scope,
    records: Sequence[ProjectRecord],
    moderated: Mapping[uuid.UUID, float] | None = None,
) -> CohortReport:
    """`moderated`: the moderated mark (weighted percentage) of each project of `records` that has one."""
    moderated = {r.id: moderated[r.id] for r in records if moderated and r.id in moderated}
    bands = Counter(mark_band(percentage) for percentage in moderated.values())
    reach = {audience: sum(r.reach.get(audience, 0) for r in records) for audience in Audience}
    states = Counter(r.state for r in records)
    scores = Counter(r.ihi_score for r in records if r.ihi_score is not None)
    return CohortReport(
        cohort_id=cohort_id,
        academic_year=academic_year,
        scope=scope,
        projects=len(records),
        by_state={state: states[state] for state in State},
        by_topic=tallies(r.topic for r in records),
        by_partner=_partners(records),
        delivery_sessions=sum(r.delivery_sessions for r in records),
        reach_by_audience=reach,
        reach_total=sum(reach.values()),
        audit_flags={flag: sum(getattr(r.audit_codes, flag) for r in records) for flag in AUDIT_FLAGS},
        audit_topics=tallies(r.audit_codes.topic for r in records),
        audit_formats=tallies(r.audit_codes.format for r in records),
        ihi_scores={score: scores[score] for score in IHI_SCORES},
        ihi_unscored=sum(r.ihi_score is None for r in records),
        marks_by_band={label: bands[label] for label, _ in MARK_BANDS},
        marks_not_moderated=len(records) - len(moderated),
    )


def tallies(labels: Iterable[str]) -> tuple[Tally, ...]:
    """Count free text case- and space-insensitively (as the project list filters topics); blanks are not counted.

    Each tally is labelled with its most used spelling (the first in sort order on a tie); most projects first.
    """
    spellings: dict[str, Counter[str]] = {}
    for label in labels:
        label = " ".join(label.split())
        if label:
            spellings.setdefault(label.casefold(), Counter())[label] += 1
    found = [
        Tally(min(counts, key=lambda spelling: (-counts[spelling], spelling)), counts.total())
        for counts in spellings.values()
    ]
    return tuple(sorted(found, key=lambda tally: (-tally.projects, tally.label.casefold(), tally.label)))


def _partners(records: Sequence[ProjectRecord]) -> tuple[PartnerTally, ...]:
    taking_part: Counter[PartnerRef] = Counter()
    leading: Counter[PartnerRef] = Counter()
    for record in records:
        taking_part.update(set(record.partners))
        if record.partners:
            leading[record.partners[0]] += 1
    found = [PartnerTally(partner, count, leading[partner]) for partner, count in taking_part.items()]
    return tuple(sorted(found, key=lambda t: (-t.projects, t.partner.name.casefold(), str(t.partner.id))))


def score_label(score: float) -> str:
    return f"{score:.1f}"


REPORT_CSV_HEADER = ("section", "key", "count")


def report_rows(report: CohortReport) -> list[tuple[str, str, int]]:
    """The report as (section, key, count) rows, in the order of the JSON report."""
    rows = [("projects", "total", report.projects)]
    rows += [("state", state.value, count) for state, count in report.by_state.items()]
    rows += [("topic", tally.label, tally.projects) for tally in report.by_topic]
    for tally in report.by_partner:
        rows.append(("partner", _partner_key(tally.partner), tally.projects))
    for tally in report.by_partner:
        rows.append(("lead_partner", _partner_key(tally.partner), tally.as_lead))
    rows.append(("delivery", "sessions", report.delivery_sessions))
    rows += [("reach", audience.value, count) for audience, count in report.reach_by_audience.items()]
    rows.append(("reach", "total", report.reach_total))
    rows += [("audit", flag, count) for flag, count in report.audit_flags.items()]
    rows += [("audit_topic", tally.label, tally.projects) for tally in report.audit_topics]
    rows += [("audit_format", tally.label, tally.projects) for tally in report.audit_formats]
    rows += [("ihi_score", score_label(score), count) for score, count in report.ihi_scores.items()]
    rows.append(("ihi_score", "unscored", report.ihi_unscored))
    rows += [("marks", band, count) for band, count in report.marks_by_band.items()]
    rows.append(("marks", "not_moderated", report.marks_not_moderated))
    return rows


def _partner_key(partner: PartnerRef) -> str:
    return f"{partner.name} ({partner.id})"


EXPORT_HEADER = (
    "id",
    "academic_year",
    "group",
    "practice",
    "ods_code",
    "title",
    "topic",
    "state",
    "lead_partner",
    "other_partners",
    "reach_total",
    "needs_analysis",
    "patient_involvement",
    "sustainable_impact",
    "audit_topic",
    "audit_format",
    "ihi_score",
    "created_at",
    "updated_at",
)


def export_row(record: ProjectRecord) -> tuple[str | int, ...]:
    """One project as a row under EXPORT_HEADER: no student or supervisor, no contact, no mark."""
    codes = record.audit_codes
    lead, *others = [partner.name for partner in record.partners] or [""]
    return (
        str(record.id),
        record.academic_year,
        record.group_name,
        record.practice_name,
        record.ods_code,
        record.title,
        record.topic,
        record.state.value,
        lead,
        "; ".join(others),
        record.reach_total,
        _yes_no(codes.needs_analysis),
        _yes_no(codes.patient_involvement),
        _yes_no(codes.sustainable_impact),
        codes.topic,
        codes.format,
        "" if record.ihi_score is None else score_label(record.ihi_score),
        _timestamp(record.created_at),
        _timestamp(record.updated_at),
    )


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
