"""The quality-improvement records of a project: dated data points of its measures, change ideas, and the PDSA
cycles that test them. No I/O.

A PDSA cycle moves plan -> do -> study -> act, one step at a time. `FLOW` is that machine as data: at each stage,
the step that moves the cycle on, and the latest step recorded, which may still be corrected. An earlier step is
fixed once a later one is recorded (a prediction rewritten after the result is no prediction). Checks here name
what is wrong and leave raising to the project, as the lifecycle's guards do.
"""

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

MAX_DATA_POINTS = 200  # per measure: an 8-week project has a handful, a run chart a few dozen
MAX_CHANGE_IDEAS = 20
MAX_CYCLES = 50
# How far back a data point may be dated: a baseline can come from an earlier audit, not from another era.
DATA_POINT_DAYS_BACK = 5 * 366  # five years
# Forward: a day's grace, so a value entered late in the evening in a zone ahead of UTC is not "in the future".
DATA_POINT_DAYS_AHEAD = 1


@dataclass(frozen=True)
class DataPoint:
    """One dated value of a measure. Pre/post figures are two points; the annotation says which is which."""

    id: uuid.UUID
    measured_on: date
    value: float
    annotation: str = ""  # for the project's team and staff; never shown to partners


@dataclass(frozen=True)
class ChangeIdea:
    id: uuid.UUID
    text: str


@dataclass(frozen=True)
class Plan:
    objective: str
    prediction: str
    data_plan: str  # what will be measured, how and by whom
    questions: str = ""
    who: str = ""
    what: str = ""
    when: str = ""
    where: str = ""


@dataclass(frozen=True)
class Do:
    what_happened: str
    deviations: str = ""  # from the plan


@dataclass(frozen=True)
class Study:
    results: str
    against_prediction: str  # how the results compare with the plan's prediction


class Decision(StrEnum):
    ADOPT = "adopt"
    ADAPT = "adapt"  # and test again, in another cycle
    ABANDON = "abandon"
    SCALE = "scale"


@dataclass(frozen=True)
class Act:
    decision: Decision
    next_step: str


StepRecord = Plan | Do | Study | Act


class Step(StrEnum):
    PLAN = "plan"
    DO = "do"
    STUDY = "study"
    ACT = "act"


class CycleStage(StrEnum):
    """Where a cycle is: named by the step it waits for."""

    PLANNING = "planning"  # nothing recorded yet
    DOING = "doing"  # plan recorded
    STUDYING = "studying"  # do recorded
    ACTING = "acting"  # study recorded
    COMPLETE = "complete"  # act recorded


@dataclass(frozen=True)
class StageRule:
    next_step: Step | None  # records the step the cycle waits for, and moves it on; None when complete
    correctable: Step | None  # the latest step recorded, which may be rewritten without moving on


FLOW: Mapping[CycleStage, StageRule] = {
    CycleStage.PLANNING: StageRule(Step.PLAN, None),
    CycleStage.DOING: StageRule(Step.DO, Step.PLAN),
    CycleStage.STUDYING: StageRule(Step.STUDY, Step.DO),
    CycleStage.ACTING: StageRule(Step.ACT, Step.STUDY),
    CycleStage.COMPLETE: StageRule(None, Step.ACT),
}
# The stage a cycle reaches when a step is first recorded.
REACHES: Mapping[Step, CycleStage] = {
    Step.PLAN: CycleStage.DOING,
    Step.DO: CycleStage.STUDYING,
    Step.STUDY: CycleStage.ACTING,
    Step.ACT: CycleStage.COMPLETE,
}
STEP_OF: Mapping[type[StepRecord], Step] = {Plan: Step.PLAN, Do: Step.DO, Study: Step.STUDY, Act: Step.ACT}


def writable_steps(stage: CycleStage) -> list[Step]:
    """The steps that may be recorded at this stage, in PDSA order."""
    rule = FLOW[stage]
    return [step for step in Step if step in (rule.correctable, rule.next_step)]


@dataclass(frozen=True)
class PdsaCycle:
    id: uuid.UUID
    change_idea_id: uuid.UUID  # the change idea it tests
    stage: CycleStage = CycleStage.PLANNING
    plan: Plan | None = None
    do: Do | None = None
    study: Study | None = None
    act: Act | None = None

    def step_problem(self, step: Step) -> str | None:
        """Why `step` cannot be recorded now, or None."""
        rule = FLOW[self.stage]
        if step in (rule.next_step, rule.correctable):
            return None
        if rule.next_step is None or list(Step).index(step) < list(Step).index(rule.next_step):
            latest = rule.correctable.value if rule.correctable else ""
            return f"the {step.value} of this cycle is fixed: its {latest} is recorded already"
        return f"record the {rule.next_step.value} of this cycle before its {step.value}"

    def with_step(self, record: StepRecord) -> "PdsaCycle":
        """The cycle with `record` written; the caller has checked `step_problem`."""
        step = STEP_OF[type(record)]
        stage = REACHES[step] if step is FLOW[self.stage].next_step else self.stage
        written: dict[str, Any] = {step.value: record}  # the field named after the step
        return replace(self, stage=stage, **written)


def data_point_problem(point: DataPoint, today: date) -> tuple[str, str] | None:
    """(field, why) when the data point cannot be recorded, else None."""
    if not math.isfinite(point.value):
        return "value", "the value must be a finite number"
    if point.measured_on < today - timedelta(days=DATA_POINT_DAYS_BACK):
        return "measured_on", "a data point may be dated at most five years back"
    if point.measured_on > today + timedelta(days=DATA_POINT_DAYS_AHEAD):
        return "measured_on", "a data point cannot be dated in the future"
    return None


def step_text_problem(record: StepRecord) -> tuple[str, str] | None:
    """(field, why) when a step's record lacks what makes it that step, else None."""
    required: dict[str, str] = {}
    if isinstance(record, Plan):
        required = {"objective": record.objective, "prediction": record.prediction, "data_plan": record.data_plan}
    elif isinstance(record, Do):
        required = {"what_happened": record.what_happened}
    elif isinstance(record, Study):
        required = {"results": record.results, "against_prediction": record.against_prediction}
    else:
        required = {"next_step": record.next_step}
    for name, text in required.items():
        if not text.strip():
            return name, f"{name} must not be blank"
    return None
