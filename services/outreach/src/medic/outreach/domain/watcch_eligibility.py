"""WATCCH eligibility rules as data, and decisions explained rule by rule. No I/O.

A cycle's rules are a list; an applicant is eligible when every rule is met. The kinds of rule:

- `year_group_in`: the applicant's year group is one of a set;
- `state_funded_school`: the applicant's school is state-funded (the register says so);
- `at_least`: at least `n` of a list of criteria are met, where a criterion is
  - `area`: an area measure compared with a threshold (`imd_quintile <= 2`), optionally of one edition
    (`imd_quintile` of IMD 2019); without an edition the newest edition held for the applicant is used;
  - `individual`: an individual indicator's value is one of a set (`free_school_meals` in {yes},
    `parental_education` in {"02"}, i.e. first in family).

Every decision keeps, for each rule (and each criterion), whether it was met and the values it looked at, with
their edition or source. A value the service does not hold is `missing`, and said so: a missing value never
counts as met, but the explanation tells it apart from a value that fails the test.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .indicators import INDIVIDUAL_VALUES, AreaMeasure, IndicatorSource, IndividualMeasure


class InvalidRules(ValueError):
    """Rules that cannot be judged by; `field` names the offending part (e.g. `rules.2.criteria.0.threshold`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Comparison(StrEnum):
    AT_MOST = "at_most"  # value <= threshold (quintile 1-2: at_most 2)
    AT_LEAST = "at_least"
    EQUALS = "equals"

    def holds(self, value: int, threshold: int) -> bool:
        if self is Comparison.AT_MOST:
            return value <= threshold
        if self is Comparison.AT_LEAST:
            return value >= threshold
        return value == threshold

    @property
    def symbol(self) -> str:
        return {"at_most": "<=", "at_least": ">=", "equals": "="}[self.value]


# The largest value each area measure takes (quintiles 1-5, deciles 1-10).
AREA_RANGE: dict[AreaMeasure, int] = {
    AreaMeasure.POLAR4_QUINTILE: 5,
    AreaMeasure.TUNDRA_LSOA_QUINTILE: 5,
    AreaMeasure.TUNDRA_MSOA_QUINTILE: 5,
    AreaMeasure.IMD_DECILE: 10,
    AreaMeasure.IMD_QUINTILE: 5,
    AreaMeasure.IDACI_DECILE: 10,
}


@dataclass(frozen=True)
class AreaCriterion:
    measure: AreaMeasure
    comparison: Comparison
    threshold: int
    edition: str | None = None  # None: the newest edition held

    kind = "area"

    def describe(self) -> str:
        edition = f" ({self.edition})" if self.edition else ""
        return f"{self.measure.value}{edition} {self.comparison.symbol} {self.threshold}"


@dataclass(frozen=True)
class IndividualCriterion:
    measure: IndividualMeasure
    values: frozenset[str]

    kind = "individual"

    def describe(self) -> str:
        return f"{self.measure.value} in {{{', '.join(sorted(self.values))}}}"


Criterion = AreaCriterion | IndividualCriterion


@dataclass(frozen=True)
class YearGroupIn:
    year_groups: frozenset[str]

    kind = "year_group_in"

    def describe(self) -> str:
        return f"year group in {{{', '.join(sorted(self.year_groups))}}}"


@dataclass(frozen=True)
class StateFundedSchool:
    kind = "state_funded_school"

    def describe(self) -> str:
        return "school is state-funded"


@dataclass(frozen=True)
class AtLeast:
    n: int
    criteria: tuple[Criterion, ...]

    kind = "at_least"

    def describe(self) -> str:
        return f"at least {self.n} of: " + "; ".join(c.describe() for c in self.criteria)


Rule = YearGroupIn | StateFundedSchool | AtLeast


@dataclass(frozen=True)
class RuleSet:
    """A cycle's rules at one version. A change after the first application is a new version."""

    version: int
    rules: tuple[Rule, ...]


# --- the facts a decision is made from ---------------------------------------------------------------------


@dataclass(frozen=True)
class AreaFact:
    measure: AreaMeasure
    edition: str
    value: int


@dataclass(frozen=True)
class IndividualFact:
    measure: IndividualMeasure
    value: str
    source: IndicatorSource


@dataclass(frozen=True)
class ApplicantFacts:
    year_group: str
    school_state_funded: bool | None  # None: the school is not (or no longer) in the register
    area: Sequence[AreaFact] = ()
    individual: Mapping[IndividualMeasure, IndividualFact] = field(default_factory=dict)

    def area_value(self, measure: AreaMeasure, edition: str | None) -> AreaFact | None:
        held = [f for f in self.area if f.measure is measure and (edition is None or f.edition == edition)]
        return max(held, key=lambda f: f.edition) if held else None


# --- decisions ------------------------------------------------------------------------------------------------


class Outcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"  # the value needed is not held: not met, and said so


@dataclass(frozen=True)
class UsedValue:
    """A value a rule looked at: its name, the value, and its edition (area) or source (individual)."""

    name: str
    value: str | None  # None: missing
    edition: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Finding:
    rule: str  # the rule as words
    outcome: Outcome
    values: tuple[UsedValue, ...] = ()
    criteria: tuple["Finding", ...] = ()  # for `at_least`: each criterion's own finding
    note: str = ""


@dataclass(frozen=True)
class Decision:
    eligible: bool
    rules_version: int
    findings: tuple[Finding, ...]


def _judge_criterion(criterion: Criterion, facts: ApplicantFacts) -> Finding:
    if isinstance(criterion, AreaCriterion):
        fact = facts.area_value(criterion.measure, criterion.edition)
        if fact is None:
            used = UsedValue(criterion.measure.value, None, edition=criterion.edition)
            return Finding(criterion.describe(), Outcome.MISSING, (used,), note="no value held for this measure")
        met = criterion.comparison.holds(fact.value, criterion.threshold)
        used = UsedValue(criterion.measure.value, str(fact.value), edition=fact.edition)
        return Finding(criterion.describe(), Outcome.MET if met else Outcome.NOT_MET, (used,))
    answer = facts.individual.get(criterion.measure)
    if answer is None:
        used = UsedValue(criterion.measure.value, None)
        return Finding(criterion.describe(), Outcome.MISSING, (used,), note="not answered")
    used = UsedValue(criterion.measure.value, answer.value, source=answer.source.value)
    return Finding(criterion.describe(), Outcome.MET if answer.value in criterion.values else Outcome.NOT_MET, (used,))


def _judge(rule: Rule, facts: ApplicantFacts) -> Finding:
    if isinstance(rule, YearGroupIn):
        met = facts.year_group in rule.year_groups
        return Finding(
            rule.describe(), Outcome.MET if met else Outcome.NOT_MET, (UsedValue("year_group", facts.year_group),)
        )
    if isinstance(rule, StateFundedSchool):
        if facts.school_state_funded is None:
            used = UsedValue("school_state_funded", None)
            return Finding(rule.describe(), Outcome.MISSING, (used,), note="the school is not in the register")
        met = facts.school_state_funded
        used = UsedValue("school_state_funded", "yes" if met else "no")
        return Finding(rule.describe(), Outcome.MET if met else Outcome.NOT_MET, (used,))
    found = tuple(_judge_criterion(c, facts) for c in rule.criteria)
    met_count = sum(f.outcome is Outcome.MET for f in found)
    missing = sum(f.outcome is Outcome.MISSING for f in found)
    if met_count >= rule.n:
        outcome = Outcome.MET
    elif met_count + missing >= rule.n:
        outcome = Outcome.MISSING  # could have been met had the missing values been held
    else:
        outcome = Outcome.NOT_MET
    note = f"{met_count} of {len(found)} met, {missing} missing; {rule.n} needed"
    return Finding(rule.describe(), outcome, criteria=found, note=note)


def decide(rules: RuleSet, facts: ApplicantFacts) -> Decision:
    """Judge `facts` by every rule; eligible when every rule is met (a missing value is never met)."""
    findings = tuple(_judge(rule, facts) for rule in rules.rules)
    return Decision(all(f.outcome is Outcome.MET for f in findings), rules.version, findings)


# --- rules as plain data (stored as JSON, exchanged over HTTP) ------------------------------------------------


def validate(rules: Sequence[Rule], *, field_name: str = "rules") -> tuple[Rule, ...]:
    """Rules that can be judged by: thresholds in range, values of the measure's vocabulary, `n` reachable."""
    for i, rule in enumerate(rules):
        where = f"{field_name}.{i}"
        if isinstance(rule, YearGroupIn) and not rule.year_groups:
            raise InvalidRules(f"{where}.year_groups", "name at least one year group")
        if isinstance(rule, AtLeast):
            if not rule.criteria:
                raise InvalidRules(f"{where}.criteria", "name at least one criterion")
            if not 1 <= rule.n <= len(rule.criteria):
                raise InvalidRules(
                    f"{where}.n", f"n must be between 1 and the number of criteria ({len(rule.criteria)})"
                )
            for j, criterion in enumerate(rule.criteria):
                _validate_criterion(criterion, f"{where}.criteria.{j}")
    return tuple(rules)


def _validate_criterion(criterion: Criterion, where: str) -> None:
    if isinstance(criterion, AreaCriterion):
        top = AREA_RANGE[criterion.measure]
        if not 1 <= criterion.threshold <= top:
            raise InvalidRules(f"{where}.threshold", f"{criterion.measure.value} runs from 1 to {top}")
        return
    allowed = {v.value for v in INDIVIDUAL_VALUES[criterion.measure]}
    if not criterion.values:
        raise InvalidRules(f"{where}.values", "name at least one value")
    if unknown := sorted(set(criterion.values) - allowed):
        raise InvalidRules(f"{where}.values", f"not values of {criterion.measure.value}: {', '.join(unknown)}")


def criterion_to_data(criterion: Criterion) -> dict[str, Any]:
    if isinstance(criterion, AreaCriterion):
        return {
            "kind": "area",
            "measure": criterion.measure.value,
            "comparison": criterion.comparison.value,
            "threshold": criterion.threshold,
            "edition": criterion.edition,
        }
    return {"kind": "individual", "measure": criterion.measure.value, "values": sorted(criterion.values)}


def rule_to_data(rule: Rule) -> dict[str, Any]:
    if isinstance(rule, YearGroupIn):
        return {"kind": "year_group_in", "year_groups": sorted(rule.year_groups)}
    if isinstance(rule, StateFundedSchool):
        return {"kind": "state_funded_school"}
    return {"kind": "at_least", "n": rule.n, "criteria": [criterion_to_data(c) for c in rule.criteria]}


def criterion_from_data(data: Mapping[str, Any]) -> Criterion:
    if data["kind"] == "area":
        return AreaCriterion(
            AreaMeasure(data["measure"]), Comparison(data["comparison"]), int(data["threshold"]), data.get("edition")
        )
    return IndividualCriterion(IndividualMeasure(data["measure"]), frozenset(data["values"]))


def rule_from_data(data: Mapping[str, Any]) -> Rule:
    if data["kind"] == "year_group_in":
        return YearGroupIn(frozenset(data["year_groups"]))
    if data["kind"] == "state_funded_school":
        return StateFundedSchool()
    return AtLeast(int(data["n"]), tuple(criterion_from_data(c) for c in data["criteria"]))


def _used_to_data(used: UsedValue) -> dict[str, Any]:
    return {"name": used.name, "value": used.value, "edition": used.edition, "source": used.source}


def finding_to_data(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "outcome": finding.outcome.value,
        "values": [_used_to_data(v) for v in finding.values],
        "criteria": [finding_to_data(c) for c in finding.criteria],
        "note": finding.note,
    }


def finding_from_data(data: Mapping[str, Any]) -> Finding:
    return Finding(
        rule=data["rule"],
        outcome=Outcome(data["outcome"]),
        values=tuple(UsedValue(v["name"], v["value"], v.get("edition"), v.get("source")) for v in data["values"]),
        criteria=tuple(finding_from_data(c) for c in data["criteria"]),
        note=data.get("note", ""),
    )
