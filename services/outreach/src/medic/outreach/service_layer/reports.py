"""The impact report and the research extract: read every area's exact figures in one place, build the report
(domain/impact.py), and leave rendering under a disclosure policy to the caller. Nothing is written or published.
The research extract holds only participants whose consent to research is valid on the day it is built."""

import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import date

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.consent import ConsentPolicy
from medic.outreach.domain.impact import (
    ExtractRow,
    Facts,
    ItemChangeFact,
    Section,
    SurveyRun,
    build,
    extract_rows,
)
from medic.outreach.domain.surveys import Item, ItemChange, item_changes
from medic.outreach.service_layer.consent import research_consented
from medic.outreach.service_layer.surveys import survey_change


def _fact(change: ItemChange) -> ItemChangeFact:
    return ItemChangeFact(
        code=change.code,
        text=change.text,
        pre_respondents=change.pre_respondents,
        post_respondents=change.post_respondents,
        n=change.n,
        pre_mean=change.pre_mean,
        post_mean=change.post_mean,
        change=change.change,
    )


async def _facts(uow: OutreachUnitOfWork) -> tuple[Facts, list[SurveyRun]]:
    async with uow:
        applications = await uow.reports.applications()
        facts = Facts(
            sessions=await uow.reports.delivered_sessions(),
            applications=applications,
            area_values=await uow.reports.area_values(),
            individual_values=await uow.reports.individual_values(),
            attendance=await uow.reports.attendance(),
            outcomes=await uow.outcomes.of_participants({a.participant_id for a in applications}),
        )
        runs = await uow.reports.survey_runs()
    return facts, runs


async def impact_report(uow: OutreachUnitOfWork) -> list[Section]:
    """Every section of the report, exact. The pre/post change comes from the surveys area's `survey_change`."""
    facts, runs = await _facts(uow)
    surveys = []
    for run in runs:
        changes = await survey_change(uow, run.cycle_id, run.questionnaire_id)
        surveys.append((run, [_fact(c) for c in changes]))
    return build(replace(facts, surveys=surveys))


async def research_extract_rows(uow: OutreachUnitOfWork) -> list[ExtractRow]:
    """The pseudonymised research extract's rows, one per participant and cycle, before the consent filter (see
    `research_extract`)."""
    facts, runs = await _facts(uow)
    by_participant: dict[uuid.UUID, list[tuple[SurveyRun, ItemChangeFact]]] = defaultdict(list)
    async with uow:
        for run in runs:
            items: dict[str, Item] = {}
            for version in reversed(await uow.surveys.versions(run.questionnaire_id)):
                for item in version.items:
                    items.setdefault(item.code, item)
            answers = defaultdict(list)
            for answer in await uow.surveys.answers(run.questionnaire_id, run.cycle_id):
                answers[answer.participant_id].append(answer)
            for participant_id, theirs in answers.items():
                for change in item_changes(list(items.values()), theirs):
                    if change.pre_respondents or change.post_respondents:
                        by_participant[participant_id].append((run, _fact(change)))
    return extract_rows(facts, by_participant)


async def research_extract(
    uow: OutreachUnitOfWork, *, on: date, policy: ConsentPolicy | None = None
) -> list[ExtractRow]:
    """The research extract as of `on` (the day it is built): only participants whose consent to research (and a
    parent's or guardian's, where needed) is valid that day, by everything recorded so far. A withdrawal recorded
    a moment ago leaves the participant out."""
    rows = await research_extract_rows(uow)
    consented = await research_consented(uow, {r.participant_id for r in rows}, on, policy=policy)
    return [r for r in rows if r.participant_id in consented]
