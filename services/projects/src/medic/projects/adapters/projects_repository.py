"""Reading and writing Community Action Projects, and who stands how to them."""

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, exists, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_partners import partners
from medic.projects.adapters.orm_projects import project_history, project_partners, projects
from medic.projects.adapters.orm_setup import group_students, group_supervisors, groups, students, supervisors
from medic.projects.domain.lifecycle import State
from medic.projects.domain.project import (
    Aim,
    Audience,
    AuditCodes,
    Classification,
    DeliverySession,
    Evaluation,
    Governance,
    Measure,
    MeasureType,
    Need,
    Project,
    ShowcaseEntry,
    ShowcaseFormat,
)
from medic.projects.domain.project_events import ProjectTransitioned
from medic.projects.domain.qi import Act, ChangeIdea, CycleStage, DataPoint, Decision, Do, PdsaCycle, Plan, Study
from medic.projects.domain.verification import VerificationStatus


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    from_state: str
    to_state: str
    taken_by: str
    reason: str | None
    taken_at: datetime


class ProjectChangedMeanwhile(Exception):
    """Someone else saved the project since it was read: a 409, try again."""


class GroupHasAProject(Exception):
    field = "group_id"


@dataclass(frozen=True)
class ProjectFilter:
    cohort_id: uuid.UUID | None = None
    state: State | None = None
    practice_id: uuid.UUID | None = None
    supervisor_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None = None
    topic: str | None = None
    text: str | None = None  # searched in the title and the need


@dataclass(frozen=True)
class Visibility:
    """Which projects a caller may see: everything, or those of their groups or their organisation."""

    everything: bool = False
    supervisor_user_id: str | None = None
    student_university_id: str | None = None
    partner_id: uuid.UUID | None = None


class ProjectRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, project: Project) -> None:
        try:
            await self._connection.execute(insert(projects).values(_row(project)))
        except IntegrityError as error:
            raise GroupHasAProject("this group has a project already") from error
        await self._write_partners(project)

    async def save(self, project: Project, *, read_version: int) -> None:
        """Write the project back, unless someone else saved it since it was read at `read_version`."""
        result = await self._connection.execute(
            update(projects)
            .where(projects.c.id == project.id, projects.c.version == read_version)
            .values(_row(project))
        )
        if result.rowcount != 1:
            raise ProjectChangedMeanwhile("the project was changed by someone else meanwhile; reload and retry")
        await self._connection.execute(delete(project_partners).where(project_partners.c.project_id == project.id))
        await self._write_partners(project)
        await self._write_history(project)

    async def _write_history(self, project: Project) -> None:
        taken = [event for event in project.events if isinstance(event, ProjectTransitioned)]
        if taken:
            await self._connection.execute(
                insert(project_history),
                [
                    {
                        "project_id": project.id,
                        "action": event.action,
                        "from_state": event.from_state,
                        "to_state": event.to_state,
                        "taken_by": event.by,
                        "reason": event.reason,
                        "taken_at": event.at,
                    }
                    for event in taken
                ],
            )

    async def history(self, project_id: uuid.UUID) -> list[HistoryEntry]:
        query = select(project_history).where(project_history.c.project_id == project_id).order_by(project_history.c.id)
        return [
            HistoryEntry(row.action, row.from_state, row.to_state, row.taken_by, row.reason, row.taken_at)
            for row in await self._connection.execute(query)
        ]

    async def _write_partners(self, project: Project) -> None:
        if project.partner_ids:
            await self._connection.execute(
                insert(project_partners),
                [
                    {"project_id": project.id, "partner_id": partner_id, "position": position}
                    for position, partner_id in enumerate(project.partner_ids)
                ],
            )

    async def get(self, project_id: uuid.UUID) -> Project | None:
        row = (await self._connection.execute(select(projects).where(projects.c.id == project_id))).first()
        if row is None:
            return None
        partner_rows = await self._connection.execute(
            select(project_partners.c.partner_id)
            .where(project_partners.c.project_id == project_id)
            .order_by(project_partners.c.position)
        )
        members = frozenset(await self.students_of(row.group_id))
        return _project(row._mapping, tuple(r.partner_id for r in partner_rows), members)

    async def placement_of(self, group_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID] | None:
        """The (cohort id, practice id) of a group, or None when there is no such group."""
        row = (
            await self._connection.execute(
                select(groups.c.cohort_id, groups.c.practice_id).where(groups.c.id == group_id)
            )
        ).first()
        return (row.cohort_id, row.practice_id) if row else None

    async def partners_taking_projects(self, partner_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these partners exist and are not archived."""
        if not partner_ids:
            return set()
        query = select(partners.c.id).where(partners.c.id.in_(partner_ids), partners.c.archived_at.is_(None))
        return {row.id for row in await self._connection.execute(query)}

    async def students_of(self, group_id: uuid.UUID) -> set[uuid.UUID]:
        query = select(group_students.c.student_id).where(group_students.c.group_id == group_id)
        return {row.student_id for row in await self._connection.execute(query)}

    async def supervises(self, user_id: str, group_id: uuid.UUID) -> bool:
        query = (
            select(group_supervisors.c.group_id)
            .join(supervisors, supervisors.c.id == group_supervisors.c.supervisor_id)
            .where(group_supervisors.c.group_id == group_id, supervisors.c.user_id == user_id)
        )
        return (await self._connection.execute(query)).first() is not None

    async def member_of(self, university_id: str, group_id: uuid.UUID) -> bool:
        query = (
            select(group_students.c.group_id)
            .join(students, students.c.id == group_students.c.student_id)
            .where(group_students.c.group_id == group_id, students.c.university_id == university_id)
        )
        return (await self._connection.execute(query)).first() is not None

    async def group_has_project(self, group_id: uuid.UUID) -> bool:
        query = select(projects.c.id).where(projects.c.group_id == group_id)
        return (await self._connection.execute(query)).first() is not None

    async def list(
        self, visibility: Visibility, where: ProjectFilter, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[Project]:
        """Newest first; `after` is the (created_at, id) of the last project of the previous page."""
        query = visible_projects(select(projects.c.id), visibility)
        query = filtered_projects(query, where)
        if after is not None:
            created_at, project_id = after
            query = query.where(
                or_(
                    projects.c.created_at < created_at,
                    and_(projects.c.created_at == created_at, projects.c.id < project_id),
                )
            )
        query = query.order_by(projects.c.created_at.desc(), projects.c.id.desc()).limit(limit)
        found = []
        for (project_id,) in (await self._connection.execute(query)).all():
            project = await self.get(project_id)
            if project is not None:
                found.append(project)
        return found

    async def is_visible(self, project_id: uuid.UUID, visibility: Visibility) -> bool:
        query = visible_projects(select(projects.c.id), visibility).where(projects.c.id == project_id)
        return (await self._connection.execute(query)).first() is not None


def visible_projects(query: Select[Any], visibility: Visibility) -> Select[Any]:
    """`query` over projects, narrowed to those `visibility` lets the caller see."""
    if visibility.everything:
        return query
    ways = []
    if visibility.supervisor_user_id is not None:
        ways.append(
            exists(
                select(group_supervisors.c.group_id)
                .join(supervisors, supervisors.c.id == group_supervisors.c.supervisor_id)
                .where(
                    group_supervisors.c.group_id == projects.c.group_id,
                    supervisors.c.user_id == visibility.supervisor_user_id,
                )
            )
        )
    if visibility.student_university_id is not None:
        ways.append(
            exists(
                select(group_students.c.group_id)
                .join(students, students.c.id == group_students.c.student_id)
                .where(
                    group_students.c.group_id == projects.c.group_id,
                    students.c.university_id == visibility.student_university_id,
                )
            )
        )
    if visibility.partner_id is not None:
        ways.append(
            exists(
                select(project_partners.c.project_id).where(
                    project_partners.c.project_id == projects.c.id,
                    project_partners.c.partner_id == visibility.partner_id,
                )
            )
        )
    return query.where(or_(*ways)) if ways else query.where(false())


def filtered_projects(query: Select[Any], where: ProjectFilter) -> Select[Any]:
    """`query` over projects, narrowed by the list filters (shared by the list, the report and the export)."""
    c = projects.c
    if where.cohort_id is not None:
        query = query.where(c.cohort_id == where.cohort_id)
    if where.state is not None:
        query = query.where(c.state == where.state.value)
    if where.practice_id is not None:
        query = query.where(c.practice_id == where.practice_id)
    if where.topic is not None:
        query = query.where(func.lower(c.topic) == where.topic.casefold())
    if where.supervisor_id is not None:
        query = query.where(
            exists(
                select(group_supervisors.c.group_id).where(
                    group_supervisors.c.group_id == c.group_id, group_supervisors.c.supervisor_id == where.supervisor_id
                )
            )
        )
    if where.partner_id is not None:
        query = query.where(
            exists(
                select(project_partners.c.project_id).where(
                    project_partners.c.project_id == c.id, project_partners.c.partner_id == where.partner_id
                )
            )
        )
    if where.text:
        pattern = "%" + where.text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(func.lower(c.title).like(pattern, escape="\\"), func.lower(c.need_summary).like(pattern, escape="\\"))
        )
    return query


def encode_cursor(project: Project) -> str:
    return encode_cursor_at(project.created_at, project.id)


def encode_cursor_at(created_at: datetime, project_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(project_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Raises ValueError for a cursor this service did not hand out."""
    try:
        created_at, project_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), uuid.UUID(project_id)
    except (ValueError, TypeError) as error:
        raise ValueError("not a cursor from this list") from error


def _row(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "cohort_id": project.cohort_id,
        "group_id": project.group_id,
        "practice_id": project.practice_id,
        "title": project.title,
        "topic": project.topic,
        "need_summary": project.need.summary if project.need else "",
        "state": project.state.value,
        "paused_from": project.paused_from.value if project.paused_from else None,
        "content": _content(project),
        "assessment_complete": project.assessment_complete,
        "version": project.version,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


def _content(project: Project) -> dict[str, Any]:
    g = project.governance
    need, aim, showcase = project.need, project.aim, project.showcase
    return {
        "need": None
        if need is None
        else {
            "summary": need.summary,
            "evidence": list(need.evidence),
            "stakeholders_consulted": list(need.stakeholders_consulted),
            "community_involvement": need.community_involvement,
        },
        "aim": None
        if aim is None
        else {
            "what": aim.what,
            "how_much": aim.how_much,
            "by_when": aim.by_when.isoformat(),
            "target_population": aim.target_population,
        },
        "measures": [
            {
                "name": m.name,
                "type": m.type.value,
                "definition": m.definition,
                "data_source": m.data_source,
                "baseline": m.baseline,
                "target": m.target,
                "id": str(m.id),
                "data_points": [
                    {
                        "id": str(p.id),
                        "measured_on": p.measured_on.isoformat(),
                        "value": p.value,
                        "annotation": p.annotation,
                    }
                    for p in m.data_points
                ],
            }
            for m in project.measures
        ],
        "change_ideas": [{"id": str(i.id), "text": i.text} for i in project.change_ideas],
        "pdsa_cycles": [_cycle_content(c) for c in project.pdsa_cycles],
        "governance": {
            "classification": g.classification.value if g.classification else None,
            "classification_reason": g.classification_reason,
            "ethics_reference": g.ethics_reference,
            "risk_assessment": g.risk_assessment,
            "works_with_children_or_vulnerable_adults": g.works_with_children_or_vulnerable_adults,
            "dbs_attested": sorted(str(s) for s in g.dbs_attested),
            "cleared_by": g.cleared_by,
            "cleared_at": g.cleared_at.isoformat() if g.cleared_at else None,
        },
        "delivery_sessions": [
            {
                "id": str(s.id),
                "held_on": s.held_on.isoformat(),
                "place": s.place,
                "format": s.format,
                "reach": dict(s.reach),
            }
            for s in project.delivery_sessions
        ],
        "evaluation": {
            "results": project.evaluation.results,
            "what_worked": project.evaluation.what_worked,
            "limitations": project.evaluation.limitations,
            "sustainability": project.evaluation.sustainability,
        },
        "showcase": None
        if showcase is None
        else {"format": showcase.format.value, "title": showcase.title, "abstract": showcase.abstract},
        "ihi_score": project.ihi_score,
        "verification": project.verification.value if project.verification else None,
        "audit_codes": {
            "needs_analysis": project.audit_codes.needs_analysis,
            "patient_involvement": project.audit_codes.patient_involvement,
            "sustainable_impact": project.audit_codes.sustainable_impact,
            "topic": project.audit_codes.topic,
            "format": project.audit_codes.format,
        },
    }


def _project(row: Any, partner_ids: tuple[uuid.UUID, ...], members: frozenset[uuid.UUID]) -> Project:
    content = row["content"]
    need, aim, g, showcase = content["need"], content["aim"], content["governance"], content["showcase"]
    return Project(
        id=row["id"],
        cohort_id=row["cohort_id"],
        group_id=row["group_id"],
        practice_id=row["practice_id"],
        title=row["title"],
        topic=row["topic"],
        partner_ids=partner_ids,
        state=State(row["state"]),
        paused_from=State(row["paused_from"]) if row["paused_from"] else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        students_delivering=members,
        need=None
        if need is None
        else Need(
            need["summary"],
            tuple(need["evidence"]),
            tuple(need["stakeholders_consulted"]),
            need["community_involvement"],
        ),
        aim=None
        if aim is None
        else Aim(aim["what"], aim["how_much"], date.fromisoformat(aim["by_when"]), aim["target_population"]),
        measures=tuple(_measure(row["id"], m) for m in content["measures"]),
        change_ideas=tuple(ChangeIdea(uuid.UUID(i["id"]), i["text"]) for i in content.get("change_ideas", [])),
        pdsa_cycles=tuple(_cycle(c) for c in content.get("pdsa_cycles", [])),
        governance=Governance(
            classification=Classification(g["classification"]) if g["classification"] else None,
            classification_reason=g["classification_reason"],
            ethics_reference=g["ethics_reference"],
            risk_assessment=g["risk_assessment"],
            works_with_children_or_vulnerable_adults=g["works_with_children_or_vulnerable_adults"],
            dbs_attested=frozenset(uuid.UUID(s) for s in g["dbs_attested"]),
            cleared_by=g["cleared_by"],
            cleared_at=datetime.fromisoformat(g["cleared_at"]) if g["cleared_at"] else None,
        ),
        delivery_sessions=tuple(
            DeliverySession(
                uuid.UUID(s["id"]),
                date.fromisoformat(s["held_on"]),
                s["place"],
                s["format"],
                {Audience(a): n for a, n in s["reach"].items()},
            )
            for s in content["delivery_sessions"]
        ),
        evaluation=Evaluation(**content["evaluation"]),
        showcase=None
        if showcase is None
        else ShowcaseEntry(ShowcaseFormat(showcase["format"]), showcase["title"], showcase["abstract"]),
        ihi_score=content["ihi_score"],
        audit_codes=AuditCodes(**content["audit_codes"]),
        assessment_complete=row["assessment_complete"],
        verification=VerificationStatus(content["verification"]) if content.get("verification") else None,
        version=row["version"],
    )


def _measure(project_id: uuid.UUID, m: dict[str, Any]) -> Measure:
    """Projects stored before measures had ids and data points get an id derived from the project and the
    measure's name: the same on every read until the project is saved with it."""
    measure_id = uuid.UUID(m["id"]) if "id" in m else uuid.uuid5(project_id, f"measure:{m['name'].casefold()}")
    points = tuple(
        DataPoint(uuid.UUID(p["id"]), date.fromisoformat(p["measured_on"]), float(p["value"]), p["annotation"])
        for p in m.get("data_points", [])
    )
    return Measure(
        m["name"],
        MeasureType(m["type"]),
        m["definition"],
        m["data_source"],
        m["baseline"],
        m["target"],
        id=measure_id,
        data_points=points,
    )


def _cycle_content(cycle: PdsaCycle) -> dict[str, Any]:
    act = cycle.act
    return {
        "id": str(cycle.id),
        "change_idea_id": str(cycle.change_idea_id),
        "stage": cycle.stage.value,
        "plan": vars(cycle.plan) if cycle.plan else None,
        "do": vars(cycle.do) if cycle.do else None,
        "study": vars(cycle.study) if cycle.study else None,
        "act": {"decision": act.decision.value, "next_step": act.next_step} if act else None,
    }


def _cycle(c: dict[str, Any]) -> PdsaCycle:
    act = c["act"]
    return PdsaCycle(
        uuid.UUID(c["id"]),
        uuid.UUID(c["change_idea_id"]),
        CycleStage(c["stage"]),
        plan=Plan(**c["plan"]) if c["plan"] else None,
        do=Do(**c["do"]) if c["do"] else None,
        study=Study(**c["study"]) if c["study"] else None,
        act=Act(Decision(act["decision"]), act["next_step"]) if act else None,
    )
