"""Report shaping without I/O: tallies of free text, a cohort's figures adding up, CSV rows and export rows."""

import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from medic.projects.domain.lifecycle import State
from medic.projects.domain.project import IHI_SCORES, Audience, AuditCodes
from medic.projects.domain.reports import (
    EXPORT_HEADER,
    MARK_BANDS,
    PartnerRef,
    ProjectRecord,
    Scope,
    Tally,
    cohort_report,
    export_row,
    mark_band,
    report_rows,
    tallies,
)

NOW = datetime(2026, 11, 25, tzinfo=UTC)
PARTNERS = [PartnerRef(uuid.UUID(int=i), f"Partner {i}") for i in range(4)]
labels = st.sampled_from(["nutrition", "Nutrition", " nutrition ", "smoking", "", "  ", "Mental  health"])

records = st.builds(
    lambda state, topic, partners, reach, sessions, ihi, flags, audit_topic: ProjectRecord(
        id=uuid.uuid4(),
        academic_year="2026-27",
        group_name="A",
        practice_name="Canal Side Surgery",
        ods_code="E85001",
        title="T",
        topic=topic,
        state=state,
        partners=tuple(partners),
        reach=reach,
        delivery_sessions=sessions,
        ihi_score=ihi,
        audit_codes=AuditCodes(
            needs_analysis=flags[0], patient_involvement=flags[1], sustainable_impact=flags[2], topic=audit_topic
        ),
        created_at=NOW,
        updated_at=NOW,
    ),
    st.sampled_from(State),
    labels,
    st.lists(st.sampled_from(PARTNERS), unique=True, max_size=3),
    st.dictionaries(st.sampled_from(Audience), st.integers(0, 500)),
    st.integers(0, 5),
    st.none() | st.sampled_from(IHI_SCORES),
    st.tuples(st.booleans(), st.booleans(), st.booleans()),
    labels,
)


def test_tallies_count_spellings_of_one_label_together_and_leave_blanks_out() -> None:
    found = tallies(["nutrition", "Nutrition", " nutrition", "smoking", "", "Smoking ", "smoking", "diet"])
    assert found == (Tally("nutrition", 3), Tally("smoking", 3), Tally("diet", 1))


@given(st.lists(labels))
def test_tallies_count_every_labelled_project_once(found_labels: list[str]) -> None:
    counted = tallies(found_labels)
    assert sum(t.projects for t in counted) == sum(1 for label in found_labels if label.strip())
    assert len({t.label.casefold() for t in counted}) == len(counted)
    assert [t.projects for t in counted] == sorted((t.projects for t in counted), reverse=True)


@given(st.lists(records, max_size=30))
def test_a_cohorts_figures_add_up(found: list[ProjectRecord]) -> None:
    report = cohort_report(uuid.uuid4(), "2026-27", Scope.COHORT, found)
    assert report.projects == len(found) == sum(report.by_state.values())
    assert list(report.by_state) == list(State) and list(report.reach_by_audience) == list(Audience)
    assert report.reach_total == sum(r.reach_total for r in found) == sum(report.reach_by_audience.values())
    assert report.delivery_sessions == sum(r.delivery_sessions for r in found)
    assert sum(report.ihi_scores.values()) + report.ihi_unscored == len(found)
    assert sum(t.as_lead for t in report.by_partner) == sum(1 for r in found if r.partners)
    assert sum(t.projects for t in report.by_partner) == sum(len(r.partners) for r in found)
    assert all(0 <= count <= len(found) for count in report.audit_flags.values())
    rows = report_rows(report)
    assert len({(section, key) for section, key, _ in rows}) == len(rows)  # each figure once
    assert ("projects", "total", len(found)) in rows


def test_an_export_row_names_partners_lead_first_and_says_yes_or_no() -> None:
    record = ProjectRecord(
        id=uuid.UUID(int=7),
        academic_year="2026-27",
        group_name="A",
        practice_name="Canal Side Surgery",
        ods_code="E85001",
        title="Cooking on a budget",
        topic="nutrition",
        state=State.IN_DELIVERY,
        partners=tuple(PARTNERS[:3]),
        reach={Audience.ADULTS: 14, Audience.CHILDREN: 6},
        delivery_sessions=2,
        ihi_score=2.0,
        audit_codes=AuditCodes(needs_analysis=True, topic="diet"),
        created_at=NOW,
        updated_at=NOW,
    )
    row = dict(zip(EXPORT_HEADER, export_row(record), strict=True))
    assert (row["lead_partner"], row["other_partners"]) == ("Partner 0", "Partner 1; Partner 2")
    assert (row["reach_total"], row["ihi_score"], row["needs_analysis"], row["sustainable_impact"]) == (
        20,
        "2.0",
        "yes",
        "no",
    )
    assert row["created_at"] == "2026-11-25T00:00:00+00:00"
    alone = export_row(ProjectRecord(**{**record.__dict__, "partners": (), "ihi_score": None}))
    assert dict(zip(EXPORT_HEADER, alone, strict=True))["lead_partner"] == ""


@given(st.lists(records, max_size=30), st.data())
def test_moderated_marks_are_counted_once_each_in_their_band(found: list[ProjectRecord], data: st.DataObject) -> None:
    marked = data.draw(st.lists(st.sampled_from(found), unique_by=lambda r: r.id) if found else st.just([]))
    percentages = {r.id: data.draw(st.floats(0, 100)) for r in marked}
    report = cohort_report(uuid.uuid4(), "2026-27", Scope.COHORT, found, {**percentages, uuid.uuid4(): 50.0})
    assert list(report.marks_by_band) == [label for label, _ in MARK_BANDS]
    assert sum(report.marks_by_band.values()) == len(marked)  # a project outside the report is not counted
    assert report.marks_not_moderated == len(found) - len(marked)


def test_mark_bands_have_their_lower_bound_inside() -> None:
    assert [mark_band(p) for p in (0, 39.9, 40, 49.9, 50, 60, 69.9, 70, 100)] == [
        "0-39", "0-39", "40-49", "40-49", "50-59", "60-69", "60-69", "70-100", "70-100"
    ]  # fmt: skip
