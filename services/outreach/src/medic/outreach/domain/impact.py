"""The impact report, built from exact facts, and rendered under a disclosure policy; the research extract's rows.
No I/O.

Reach: primary-school sessions taught and pupils (counted per session: a class taught twice counts twice) by key
stage, topic and school; WATCCH applications by the stage they reached (applications, eligible, offered, enrolled,
completed, withdrawn) by cycle, by school and by each indicator (area indicators by measure and edition, individual
indicators by value); attendance at activities; the pre/post survey change per item; progression to healthcare
courses. Stages are cumulative (an enrolled applicant was eligible and offered), so a stage table has column totals
(the rows are exclusive: one application, one row) and no row totals.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from medic.outreach.domain.disclosure import (
    CountTable,
    DisclosurePolicy,
    Rate,
    Rendered,
    render_counts,
    render_rates,
)
from medic.outreach.domain.outcomes import STAGE_ORDER, Outcome, furthest_stage
from medic.outreach.domain.watcch import State
from medic.shared.contracts.outreach.activities import ActivityKind, Attendance
from medic.shared.contracts.outreach.outcomes import CourseType, OutcomeStage
from medic.shared.contracts.outreach.primary import KeyStage

# --- facts (exact, as read) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveredSession:
    urn: str
    school: str
    key_stage: KeyStage
    topic: str
    pupils: int


@dataclass(frozen=True)
class ApplicationFact:
    application_id: uuid.UUID
    participant_id: uuid.UUID
    cycle_id: uuid.UUID
    cycle: str  # academic year, e.g. 2026/27
    urn: str
    school: str
    state: State
    eligible_at_set: bool
    offered_at_set: bool


@dataclass(frozen=True)
class AreaValue:
    participant_id: uuid.UUID
    dataset: str
    edition: str
    measure: str
    value: int


@dataclass(frozen=True)
class IndividualValue:
    participant_id: uuid.UUID
    measure: str
    value: str
    source: str


@dataclass(frozen=True)
class AttendanceFact:
    participant_id: uuid.UUID
    activity_id: uuid.UUID
    cycle_id: uuid.UUID
    cycle: str
    kind: ActivityKind
    attendance: Attendance | None  # None: not recorded yet
    minutes: int | None


@dataclass(frozen=True)
class SurveyRun:
    """A questionnaire answered in a cycle."""

    questionnaire_id: uuid.UUID
    questionnaire: str
    cycle_id: uuid.UUID
    cycle: str


@dataclass(frozen=True)
class ItemChangeFact:
    """The pre/post change of one item over one cycle (from the surveys area's `survey_change`)."""

    code: str
    text: str
    pre_respondents: int
    post_respondents: int
    n: int
    pre_mean: Decimal | None
    post_mean: Decimal | None
    change: Decimal | None


@dataclass(frozen=True)
class Facts:
    sessions: Sequence[DeliveredSession] = ()
    applications: Sequence[ApplicationFact] = ()
    area_values: Sequence[AreaValue] = ()
    individual_values: Sequence[IndividualValue] = ()
    attendance: Sequence[AttendanceFact] = ()
    surveys: Sequence[tuple[SurveyRun, Sequence[ItemChangeFact]]] = ()
    outcomes: Mapping[uuid.UUID, Sequence[Outcome]] = field(default_factory=dict)


# --- stages -------------------------------------------------------------------------------------------------------

STAGES = ("applications", "eligible", "offered", "enrolled", "completed", "withdrawn")
TOOK_PART = frozenset({State.ENROLLED, State.COMPLETED})  # the progression rates' denominators
_OFFERED = frozenset({State.OFFERED, State.ACCEPTED, State.DECLINED, State.OFFER_EXPIRED}) | TOOK_PART
_ELIGIBLE = frozenset({State.ELIGIBLE, State.WAITLISTED}) | _OFFERED


def stages(application: ApplicationFact) -> tuple[int, ...]:
    """1 for each stage the application reached. A withdrawal counts as eligible or offered when it had been (its
    eligibility or offer date is kept); the state alone cannot say whether it had been enrolled."""
    state = application.state
    withdrawn = state is State.WITHDRAWN
    return (
        1,
        int(state in _ELIGIBLE or (withdrawn and application.eligible_at_set)),
        int(state in _OFFERED or (withdrawn and application.offered_at_set)),
        int(state in TOOK_PART),
        int(state is State.COMPLETED),
        int(withdrawn),
    )


# --- sections (exact) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountSection:
    key: str
    title: str
    table: CountTable
    note: str = ""


@dataclass(frozen=True)
class RateSection:
    key: str
    title: str
    rates: tuple[Rate, ...]
    overall: str | None  # the overall row's label, None when the groups overlap
    note: str = ""
    overall_people: int | None = None  # distinct people behind the overall rate, when the rates carry `people`


@dataclass(frozen=True)
class MeanRow:
    label: str
    counts: tuple[int, ...]  # rounded like any count
    n: int  # the distinct people the means are over (the thresholds apply to them, not to the rows counted)
    means: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class MeanSection:
    key: str
    title: str
    count_columns: tuple[str, ...]
    mean_columns: tuple[str, ...]
    rows: tuple[MeanRow, ...]
    note: str = ""


Section = CountSection | RateSection | MeanSection


def _stage_table(key: str, title: str, groups: Mapping[str, Iterable[ApplicationFact]], note: str = "") -> CountSection:
    labels = tuple(groups)
    cells = tuple(
        tuple(sum(column) for column in zip(*(stages(a) for a in groups[label]), strict=True))
        if list(groups[label])
        else (0,) * len(STAGES)
        for label in labels
    )
    return CountSection(key, title, CountTable(labels, STAGES, cells, row_totals=False), note)


def primary_sections(sessions: Sequence[DeliveredSession]) -> list[Section]:
    def table(key: str, title: str, groups: dict[str, list[DeliveredSession]]) -> CountSection:
        labels = tuple(groups)
        cells = tuple((len(groups[g]), sum(s.pupils for s in groups[g])) for g in labels)
        note = "Pupils are counted per session taught: a class taught twice counts twice."
        return CountSection(key, title, CountTable(labels, ("sessions", "pupils"), cells, row_totals=False), note)

    by_stage: dict[str, list[DeliveredSession]] = {k.value: [] for k in KeyStage}
    by_topic: dict[str, list[DeliveredSession]] = defaultdict(list)
    by_school: dict[str, list[DeliveredSession]] = defaultdict(list)
    for session in sessions:
        by_stage[session.key_stage.value].append(session)
        by_topic[session.topic].append(session)
        by_school[f"{session.urn} {session.school}"].append(session)
    return [
        table("primary_by_key_stage", "Primary programme: sessions taught and pupils, by key stage", by_stage),
        table(
            "primary_by_topic",
            "Primary programme: sessions taught and pupils, by topic",
            dict(sorted(by_topic.items())),
        ),
        table(
            "primary_by_school",
            "Primary programme: sessions taught and pupils, by school",
            dict(sorted(by_school.items())),
        ),
    ]


def watcch_sections(facts: Facts) -> list[Section]:
    apps = facts.applications
    by_cycle: dict[str, list[ApplicationFact]] = defaultdict(list)
    by_school: dict[str, list[ApplicationFact]] = defaultdict(list)
    for a in apps:
        by_cycle[a.cycle].append(a)
        by_school[f"{a.urn} {a.school}"].append(a)
    sections: list[Section] = [
        _stage_table(
            "watcch_by_cycle", "WATCCH: applications by the stage reached, by cycle", dict(sorted(by_cycle.items()))
        ),
        _stage_table(
            "watcch_by_school", "WATCCH: applications by the stage reached, by school", dict(sorted(by_school.items()))
        ),
    ]
    # Area indicators: one table per measure and edition; applicants with no value in that edition are "not known".
    area: dict[tuple[str, str, str], dict[uuid.UUID, int]] = defaultdict(dict)
    for v in facts.area_values:
        area[(v.measure, v.dataset, v.edition)][v.participant_id] = v.value
    for (measure, dataset, edition), values in sorted(area.items()):
        groups: dict[str, list[ApplicationFact]] = {str(k): [] for k in sorted(set(values.values()))}
        groups["not known"] = []
        for a in apps:
            value = values.get(a.participant_id)
            groups["not known" if value is None else str(value)].append(a)
        key = f"area_indicator:{measure}:{dataset}:{edition}"
        title = f"WATCCH: applications by {measure} ({dataset}, edition {edition})"
        sections.append(_stage_table(key, title, groups, "Area indicators describe the home postcode's area."))
    individual: dict[str, dict[uuid.UUID, str]] = defaultdict(dict)
    for iv in facts.individual_values:
        individual[iv.measure][iv.participant_id] = iv.value
    for measure, by_participant in sorted(individual.items()):
        groups = {value: [] for value in sorted(set(by_participant.values()))}
        groups["not recorded"] = []
        for a in apps:
            groups[by_participant.get(a.participant_id, "not recorded")].append(a)
        title = f"WATCCH: applications by {measure} (current value, any source)"
        sections.append(_stage_table(f"individual_indicator:{measure}", title, groups))
    return sections


ATTENDANCE_COLUMNS = ("present", "late", "absent", "withdrawn", "not_recorded")
ATTENDED = frozenset({Attendance.PRESENT, Attendance.LATE, Attendance.WITHDRAWN})


def attendance_sections(records: Sequence[AttendanceFact]) -> list[Section]:
    by_kind: dict[str, list[AttendanceFact]] = {k.value: [] for k in ActivityKind}
    for record in records:
        by_kind[record.kind.value].append(record)
    kinds = tuple(k for k, found in by_kind.items() if found)
    cells = tuple(
        tuple(
            sum(1 for r in by_kind[k] if (r.attendance.value if r.attendance else "not_recorded") == column)
            for column in ATTENDANCE_COLUMNS
        )
        for k in kinds
    )
    # One participant holds several places, so a rate or mean over attendances is shown only when enough distinct
    # participants are behind it: 3 people at 8 workshops are 24 attendances, and still 3 people.
    rates = []
    for k in kinds:
        recorded = [r for r in by_kind[k] if r.attendance]
        attended_here = sum(1 for r in recorded if r.attendance in ATTENDED)
        rates.append(Rate(k, attended_here, len(recorded), people=len({r.participant_id for r in recorded})))
    overall_people = len({r.participant_id for r in records if r.attendance})
    hours = []
    for k in kinds:
        attended = [r for r in by_kind[k] if r.attendance in ATTENDED and r.minutes is not None]
        total = sum((Decimal(r.minutes or 0) for r in attended), Decimal(0)) / 60
        people = len({r.participant_id for r in attended})
        hours.append(MeanRow(k, (len(attended),), people, (total / len(attended) if attended else None,)))
    return [
        CountSection(
            "attendance",
            "WATCCH activities: places held, by attendance, by kind of activity",
            CountTable(kinds, ATTENDANCE_COLUMNS, cells),
        ),
        RateSection(
            "attendance_rate",
            "WATCCH activities: attended (present, late or left part-way) of attendance recorded",
            tuple(rates),
            "All activities",
            "Counted per place held; a percentage is shown only when enough distinct participants are behind it.",
            overall_people,
        ),
        MeanSection(
            "attendance_hours",
            "WATCCH activities: mean hours per attendance",
            ("attendances",),
            ("mean_hours",),
            tuple(hours),
            "A mean is shown only when enough distinct participants are behind it.",
        ),
    ]


def survey_sections(runs: Sequence[tuple[SurveyRun, Sequence[ItemChangeFact]]]) -> list[Section]:
    return [
        MeanSection(
            f"survey_change:{run.questionnaire_id}:{run.cycle_id}",
            f"Pre/post change per item: {run.questionnaire}, cycle {run.cycle} (Likert 1-5)",
            ("pre_respondents", "post_respondents", "both"),
            ("pre_mean", "post_mean", "change"),
            tuple(
                MeanRow(i.code, (i.pre_respondents, i.post_respondents, i.n), i.n, (i.pre_mean, i.post_mean, i.change))
                for i in items
            ),
            "Means over the participants who answered both; the change is post minus pre.",
        )
        for run, items in runs
    ]


def progression_sections(facts: Facts) -> list[Section]:
    took_part = [a for a in facts.applications if a.state in TOOK_PART]
    by_cycle: dict[str, list[ApplicationFact]] = defaultdict(list)
    for a in took_part:
        by_cycle[a.cycle].append(a)
    sections: list[Section] = []
    for stage in STAGE_ORDER:
        rates = tuple(
            Rate(cycle, sum(1 for a in group if _reached(facts.outcomes.get(a.participant_id, ()), stage)), len(group))
            for cycle, group in sorted(by_cycle.items())
        )
        sections.append(
            RateSection(
                f"progression_{stage.value}",
                f"Progression: participants who took part (enrolled or completed) and {stage.value} to a healthcare "
                "course, by cycle",
                rates,
                "All cycles",
                "Any healthcare course; an enrolment counts as an offer and an application.",
            )
        )
    rates = tuple(
        Rate(
            f"{course.value}: {stage.value}",
            sum(1 for a in took_part if _reached(facts.outcomes.get(a.participant_id, ()), stage, course)),
            len(took_part),
        )
        for course in CourseType
        for stage in STAGE_ORDER
    )
    sections.append(
        RateSection(
            "progression_by_course_type",
            "Progression: participants who took part, by course type and stage reached",
            rates,
            None,
            "A participant may apply for several course types, so the rows overlap and have no total.",
        )
    )
    return sections


def _reached(outcomes: Sequence[Outcome], stage: OutcomeStage, course: CourseType | None = None) -> bool:
    furthest = furthest_stage(list(outcomes), None if course is None else frozenset({course}))
    return furthest is not None and STAGE_ORDER.index(furthest) >= STAGE_ORDER.index(stage)


def build(facts: Facts) -> list[Section]:
    return [
        *primary_sections(facts.sessions),
        *watcch_sections(facts),
        *attendance_sections(facts.attendance),
        *survey_sections(facts.surveys),
        *progression_sections(facts),
    ]


# --- rendering ----------------------------------------------------------------------------------------------------


def render_section(section: Section, policy: DisclosurePolicy) -> dict[str, Any]:
    head: dict[str, Any] = {"key": section.key, "title": section.title, "note": section.note}
    if isinstance(section, CountSection):
        shown = render_counts(section.table, policy)
        rows = []
        for i, label in enumerate(shown.rows):
            row: dict[str, Any] = {"label": label, "values": dict(zip(shown.columns, shown.cells[i], strict=True))}
            if shown.row_totals:
                row["total"] = shown.row_totals[i]
            rows.append(row)
        totals = dict(zip(shown.columns, shown.column_totals, strict=True)) if shown.column_totals else None
        return {**head, "kind": "counts", "columns": list(shown.columns), "rows": rows, "totals": totals,
                "total": shown.total}  # fmt: skip
    if isinstance(section, RateSection):
        lines = render_rates(
            section.rates, policy, overall_label=section.overall, overall_people=section.overall_people
        )
        rows = [
            {"label": r.label, "numerator": r.numerator, "denominator": r.denominator, "percentage": r.percentage}
            for r in lines
        ]
        return {**head, "kind": "rates", "overall": section.overall, "rows": rows}
    rows = []
    for mean_row in section.rows:
        values: dict[str, Rendered] = {
            c: policy.count(v) for c, v in zip(section.count_columns, mean_row.counts, strict=True)
        }
        values |= {c: policy.mean(v, mean_row.n) for c, v in zip(section.mean_columns, mean_row.means, strict=True)}
        rows.append({"label": mean_row.label, "values": values})
    columns = [*section.count_columns, *section.mean_columns]
    return {**head, "kind": "means", "columns": columns, "rows": rows}


def render(sections: Sequence[Section], policy: DisclosurePolicy) -> dict[str, Any]:
    return {"policy": policy.describe(), "sections": [render_section(s, policy) for s in sections]}


CSV_HEADER = ("section", "row", "column", "value")


def csv_rows(rendered: Mapping[str, Any]) -> list[tuple[str, str, str, Rendered | None]]:
    """The rendered report in long form: the policy's name, title and rules first, then one line per figure."""
    policy = rendered["policy"]
    out: list[tuple[str, str, str, Rendered | None]] = [
        ("policy", "name", "", str(policy["name"])),
        ("policy", "title", "", str(policy["title"])),
        ("policy", "for_publication", "", "yes" if policy["for_publication"] else "no"),
    ]
    out += [("policy", "rule", str(i), str(rule)) for i, rule in enumerate(policy["rules"], start=1)]
    for section in rendered["sections"]:
        key = section["key"]
        if section["kind"] == "rates":
            for row in section["rows"]:
                out += [(key, row["label"], c, row[c]) for c in ("numerator", "denominator", "percentage")]
            continue
        for row in section["rows"]:
            out += [(key, row["label"], c, v) for c, v in row["values"].items()]
            if "total" in row:
                out.append((key, row["label"], "total", row["total"]))
        if section.get("totals"):
            out += [(key, "total", c, v) for c, v in section["totals"].items()]
        if section.get("total") is not None:
            out.append((key, "total", "total", section["total"]))
    return out


# --- the research extract -------------------------------------------------------------------------------------------

RESEARCH_CONSENT_MISSING = (
    "the research extract needs each participant's consent to research, and consent is not recorded yet: "
    "the extract is refused until it is"
)
IN_EXTRACT = TOOK_PART | {State.WITHDRAWN}  # took part (a withdrawal only if it had been offered a place)


@dataclass(frozen=True)
class ExtractRow:
    """One participant in one cycle, by pseudonymous id only: no name, contact, date of birth, postcode, school or
    free text."""

    participant_id: uuid.UUID
    cycle: str
    state: State
    area_indicators: tuple[AreaValue, ...]
    individual_indicators: tuple[IndividualValue, ...]
    activities: tuple[AttendanceFact, ...]
    survey_change: tuple[tuple[SurveyRun, ItemChangeFact], ...]
    outcomes: tuple[Outcome, ...]


def extract_rows(
    facts: Facts, survey_by_participant: Mapping[uuid.UUID, Sequence[tuple[SurveyRun, ItemChangeFact]]]
) -> list[ExtractRow]:
    """Participants who took part in a cycle (enrolled, completed, or withdrawn after an offer), one row per
    participant and cycle, with everything the report counts about them."""
    area: dict[uuid.UUID, list[AreaValue]] = defaultdict(list)
    for value in facts.area_values:
        area[value.participant_id].append(value)
    individual: dict[uuid.UUID, list[IndividualValue]] = defaultdict(list)
    for iv in facts.individual_values:
        individual[iv.participant_id].append(iv)
    attended: dict[tuple[uuid.UUID, uuid.UUID], list[AttendanceFact]] = defaultdict(list)
    for record in facts.attendance:
        attended[(record.participant_id, record.cycle_id)].append(record)
    rows = []
    for a in facts.applications:
        if a.state not in IN_EXTRACT or (a.state is State.WITHDRAWN and not a.offered_at_set):
            continue
        survey = tuple(
            (run, item) for run, item in survey_by_participant.get(a.participant_id, ()) if run.cycle_id == a.cycle_id
        )
        rows.append(
            ExtractRow(
                participant_id=a.participant_id,
                cycle=a.cycle,
                state=a.state,
                area_indicators=tuple(area[a.participant_id]),
                individual_indicators=tuple(individual[a.participant_id]),
                activities=tuple(attended[(a.participant_id, a.cycle_id)]),
                survey_change=survey,
                outcomes=tuple(facts.outcomes.get(a.participant_id, ())),
            )
        )
    return rows
