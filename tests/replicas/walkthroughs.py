"""The README's walk-throughs ("A CAP year, end to end", "Outreach, end to end", "Safeguarding, consent, mentoring
and erasure", "Partner webhooks and emails, end to end"), step by step as its shell commands do them, over HTTP,
each request to the next replica of its service in turn (the README's dates moved relative to today, so that they
keep working); and timers made due from outside.

Each returns what the checks need: ids, and how many of each kind of thing it did.
"""

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from medic.shared.auth import Role
from tests.replicas.drive import Across, WebhookReceiver, eventually, mails, token
from tests.replicas.processes import ReplicaSet

REPOSITORY = Path(__file__).resolve().parents[2]
GIAS_SAMPLE = REPOSITORY / "services/outreach/tests/fixtures/gias_sample.csv"
LEAD = token(Role.COORDINATOR, Role.OPS)
PROJECTS, OUTREACH, NOTIFICATIONS = "projects", "outreach", "notifications"


def today() -> date:
    return date.today()


def days(n: int) -> str:
    """The day `n` days from today: the README's fixed dates, moved so that the walk-throughs keep working."""
    return (today() + timedelta(days=n)).isoformat()


def academic_year(separator: str, *, ago: int = 0) -> str:
    """This academic year (August to July), e.g. 2026/27 or 2026-27, or the one `ago` years before."""
    start = (today().year if today().month >= 8 else today().year - 1) - ago
    return f"{start}{separator}{(start + 1) % 100:02d}"


# The README's WATCCH cycle: applications open now, the programme from 40 days on.
PROGRAMME_STARTS, PROGRAMME_ENDS = 40, 200


@dataclass
class Done:
    """What the walk-throughs did that the checks count on."""

    partners: list[str] = field(default_factory=list)  # registered in projects
    agreements: dict[str, int] = field(default_factory=dict)  # partner id -> agreements added
    projects: dict[str, str] = field(default_factory=dict)  # project id -> the state it was left in
    erased: list[str] = field(default_factory=list)  # participant ids erased
    kept_participant: str = ""
    cycle: str = ""
    endpoint: str = ""  # the partner's working endpoint
    retired_endpoint: str = ""
    partner_token: str = ""
    verification_mail_to: str = ""
    reminder_projects: list[str] = field(default_factory=list)  # the timers' cohort: projects that meet nothing
    expiring_consents: int = 0
    expiring_training_person: str = ""


# A CAP year, end to end ---------------------------------------------------------------------------------------------


async def cap_year(api: Across, mail_dir: Path, done: Done) -> None:
    cohort = await api.create(
        LEAD,
        PROJECTS,
        "/cohorts",
        {"academic_year": academic_year("-"), "placement_start": days(28), "placement_end": days(95)},
    )
    practice = await api.create(
        LEAD, PROJECTS, "/practices", {"name": "Canal Side Surgery", "ods_code": "E85001", "area": "Hammersmith"}
    )
    tutor = await api.create(
        LEAD,
        PROJECTS,
        "/supervisors",
        {"user_id": "dr.ahmed", "name": "Dr Ahmed", "email": "ahmed@nhs.example", "practice_ids": [practice]},
    )
    sam = await api.create(
        LEAD,
        PROJECTS,
        "/students",
        {"university_id": "2301234", "name": "Sam Okafor", "email": "sam@student.example.ac.uk"},
    )
    alex = await api.create(
        LEAD,
        PROJECTS,
        "/students",
        {"university_id": "2301235", "name": "Alex Chen", "email": "alex@student.example.ac.uk"},
    )
    group = await api.create(
        LEAD,
        PROJECTS,
        "/groups",
        {
            "cohort_id": cohort,
            "practice_id": practice,
            "name": "A1",
            "student_ids": [sam, alex],
            "supervisor_ids": [tutor],
        },
    )
    partner = await api.create(
        LEAD,
        PROJECTS,
        "/partners",
        {"name": "Riverside Food Bank", "kind": "charity", "contact_email": "hello@riverside.example"},
    )
    done.partners.append(partner)
    await api.call(
        LEAD,
        PROJECTS,
        f"/cohorts/{cohort}/rubric",
        {
            "criteria": [
                {"key": "need", "title": "Needs analysis", "max_mark": 10},
                {"key": "impact", "title": "Impact", "max_mark": 10},
            ]
        },
        method="PUT",
    )

    sam_t = token(Role.STUDENT, user="2301234")
    alex_t = token(Role.STUDENT, user="2301235")
    tutor_t = token(Role.SUPERVISOR, user="dr.ahmed")
    partner_t = token(Role.PARTNER, user="p.jones", partner=uuid.UUID(partner))

    project = await api.create(
        sam_t,
        PROJECTS,
        "/projects",
        {"group_id": group, "title": "Cooking on a budget", "topic": "nutrition", "partner_ids": [partner]},
    )
    proposal = {
        "title": "Cooking on a budget",
        "topic": "nutrition",
        "partner_ids": [partner],
        "need": {
            "summary": "Families at the practice report little access to fresh food",
            "evidence": ["practice audit"],
        },
        "aim": {
            "what": "more families cook a fresh meal each week",
            "how_much": "20% more",
            "by_when": days(85),
            "target_population": "families at the practice",
        },
        "measures": [
            {
                "name": "fresh meals",
                "type": "outcome",
                "definition": "fresh meals a week",
                "data_source": "survey",
                "baseline": "2",
                "target": "3",
            }
        ],
    }
    at = f"/projects/{project}"
    await api.call(alex_t, PROJECTS, f"{at}/proposal", proposal, method="PUT")
    assert (await api.call(sam_t, PROJECTS, f"{at}/actions/submit_proposal", {}))["state"] == "proposed"
    await api.call(tutor_t, PROJECTS, f"{at}/actions/request_changes", {"reason": "Make the aim measurable"})
    await api.call(sam_t, PROJECTS, f"{at}/proposal", proposal, method="PUT")
    await api.call(sam_t, PROJECTS, f"{at}/actions/submit_proposal", {})
    assert (await api.call(tutor_t, PROJECTS, f"{at}/actions/approve", {}))["state"] == "approved"

    refused = await api.request(PROJECTS, "POST", f"{at}/actions/start_delivery", sam_t, json={})
    assert refused.status_code == 409, refused.text
    await api.call(
        sam_t,
        PROJECTS,
        f"{at}/governance",
        {
            "classification": "service_evaluation",
            "classification_reason": "evaluates a new service, no randomisation",
            "risk_assessment": "low risk; public venue",
        },
        method="PUT",
    )
    await api.call(tutor_t, PROJECTS, f"{at}/actions/clear_governance", {})

    assert (await api.call(sam_t, PROJECTS, f"{at}/actions/start_delivery", {}))["state"] == "in_delivery"
    await api.call(
        sam_t,
        PROJECTS,
        f"{at}/delivery-sessions",
        {
            "held_on": days(44),
            "place": "Community hall",
            "format": "workshop",
            "reach": {"adults": 14, "children": 6},
        },
    )
    await api.call(sam_t, PROJECTS, f"{at}/actions/start_evaluation", {})
    await api.call(
        alex_t,
        PROJECTS,
        f"{at}/evaluation",
        {
            "results": "3.1 fresh meals a week, from 2.0",
            "what_worked": "cooking demonstrations",
            "limitations": "small, self-reported",
            "sustainability": "the food bank runs them monthly",
        },
        method="PUT",
    )
    assert (await api.call(sam_t, PROJECTS, f"{at}/actions/submit", {}))["state"] == "submitted"

    # 6. The link is emailed to the partner's contact: read from the mail directory the replicas share.
    await api.call(sam_t, PROJECTS, f"{at}/verification-link", method="POST")

    async def link_mailed() -> str:
        for mail in mails(mail_dir):
            if mail.subject.startswith("Please confirm") and "hello@riverside.example" in mail.to:
                found = re.search(r"http\S+/verifications/\S+", mail.text)
                return found.group(0) if found else ""
        return ""

    link = await eventually(link_mailed, "the verification link emailed to the partner's contact")
    done.verification_mail_to = "hello@riverside.example"
    path = urlsplit(link).path  # opened on whichever replica is next, not the one the link names
    await api.call(None, PROJECTS, path)
    await api.call(None, PROJECTS, path, {"decision": "verified"})
    assert (await api.call(partner_t, PROJECTS, at))["verification"] == "verified"

    await api.call(
        sam_t,
        PROJECTS,
        f"{at}/showcase",
        {"format": "poster", "title": "Fresh food, fewer takeaways", "abstract": "We worked with the food bank to..."},
        method="PUT",
    )
    assert (await api.call(tutor_t, PROJECTS, f"{at}/actions/showcase", {}))["state"] == "showcased"
    await api.call(tutor_t, PROJECTS, f"{at}/marks", {"marks": {"need": 8, "impact": 7}}, method="PUT")
    assert (await api.call(tutor_t, PROJECTS, f"{at}/actions/assess", {}))["state"] == "assessed"
    await api.call(LEAD, PROJECTS, f"{at}/moderation", {"marks": {"need": 8, "impact": 8}}, method="PUT")
    await api.call(LEAD, PROJECTS, f"/cohorts/{cohort}/marks/release", method="POST")
    assert (await api.call(LEAD, PROJECTS, f"{at}/actions/close", {}))["state"] == "closed"
    done.projects[project] = "closed"


# Outreach, end to end -----------------------------------------------------------------------------------------------


async def outreach(api: Across, done: Done) -> None:
    imported = await api.request(
        OUTREACH,
        "POST",
        "/imports/schools",
        LEAD,
        content=GIAS_SAMPLE.read_bytes(),
        headers={"Content-Type": "text/csv"},
    )
    assert imported.is_success, imported.text
    await api.call(
        LEAD,
        OUTREACH,
        "/schools/100000/contact",
        {"name": "Ms Amina Yusuf", "email": "a.yusuf@aldgate.example.sch.uk", "role": "teacher"},
        method="PUT",
    )

    term = await api.create(
        LEAD,
        OUTREACH,
        "/primary/terms",
        {
            "name": "This term",
            "academic_year": academic_year("/"),
            "starts_on": today().isoformat(),
            "ends_on": days(30),
        },
    )
    session = await api.create(
        LEAD,
        OUTREACH,
        "/primary/sessions",
        {
            "term_id": term,
            "urn": "100000",
            "date": today().isoformat(),
            "starts_at": "09:30",
            "ends_at": "10:30",
            "year_group": "year_3",
            "topic_id": "healthy_eating",
            "level": "core",
            "student_ids": ["2301234", "2301235"],
        },
    )
    at = f"/primary/sessions/{session}"
    assert (await api.call(LEAD, OUTREACH, f"{at}/actions/review_plan", {}))["state"] == "plan_reviewed"
    for student in ("2301234", "2301235"):
        await api.call(
            LEAD, OUTREACH, "/safeguarding/people", {"person_id": student, "full_name": f"Student {student}"}
        )
        await api.call(
            LEAD,
            OUTREACH,
            f"/safeguarding/people/{student}/dbs-checks",
            {
                "level": "enhanced_barred_children",
                "workforce": "child",
                "certificate_number": "001234567890",
                "issued_on": days(-90),
                "seen_how": "original_certificate",
            },
        )
        await api.call(
            LEAD,
            OUTREACH,
            f"/safeguarding/people/{student}/training",
            {"completed_on": days(-80), "expires_on": days(3 * 365)},
        )
    clearance = await api.call(LEAD, OUTREACH, "/safeguarding/people/2301235/clearance?contact=supervised_occasional")
    assert clearance["cleared"] is True, clearance
    sam_t = token(Role.STUDENT, user="2301234")
    delivered = await api.call(
        sam_t, OUTREACH, f"{at}/delivery", {"pupils": 28, "classes": 1, "teacher_present_throughout": True}
    )
    assert delivered["state"] == "delivered"
    await api.call(
        sam_t,
        OUTREACH,
        f"{at}/reflection",
        {"text": "The food-label game worked; the plate model was too abstract for Year 3"},
        method="PUT",
    )
    await api.call(
        LEAD,
        OUTREACH,
        f"{at}/teacher-feedback",
        {
            "form_version": 1,
            "scores": {
                "right_level": 4,
                "pupils_engaged": 5,
                "students_prepared": 4,
                "fits_curriculum": 4,
                "welcome_again": 5,
            },
            "comments": "Lively and well pitched",
        },
        method="PUT",
    )
    counts = [
        ("know_topic", "before", 9, 12, 7),
        ("stay_healthy", "before", 10, 10, 8),
        ("ask_for_help", "before", 14, 9, 5),
        ("know_topic", "after", 21, 6, 1),
        ("stay_healthy", "after", 19, 7, 2),
        ("ask_for_help", "after", 20, 6, 2),
    ]
    await api.call(
        sam_t,
        OUTREACH,
        f"{at}/pupil-feedback",
        {
            "form_version": 1,
            "counts": [
                {"question": q, "phase": phase, "happy": h, "not_sure": n, "sad": s} for q, phase, h, n, s in counts
            ],
        },
        method="PUT",
    )
    assert (await api.call(LEAD, OUTREACH, f"{at}/actions/collect_feedback", {}))["state"] == "feedback_collected"
    assert (await api.call(LEAD, OUTREACH, f"{at}/actions/close", {}))["state"] == "closed"
    summary = await api.call(LEAD, OUTREACH, f"/primary/terms/{term}/summary")
    assert summary["delivered"] == {"sessions": 1, "pupils": 28, "classes": 1}, summary

    # 3. WATCCH: a cycle of 2 places; four public applications
    cycle = await api.create(
        LEAD,
        OUTREACH,
        "/watcch/cycles",
        {
            "name": f"WATCCH {academic_year('/')}",
            "academic_year": academic_year("/"),
            "capacity": 2,
            "applications_open_on": days(-30),
            "applications_close_on": days(30),
            "programme_starts_on": days(PROGRAMME_STARTS),
            "programme_ends_on": days(PROGRAMME_ENDS),
            "year_groups": ["year_12"],
            "questions": ["Why are you interested in a career in healthcare?"],
        },
    )
    done.cycle = cycle
    assert (await api.call(LEAD, OUTREACH, f"/watcch/cycles/{cycle}/open", method="POST"))["status"] == "open"
    for given, postcode, indicators in (
        ("Aisha", "B10 0AB", {}),
        ("Bilal", "L5 0QW", {"parental_education": "02"}),
        ("Chloe", "N17 9LJ", {"free_school_meals": "yes"}),
        ("Dylan", "L18 3HW", {}),
    ):
        await api.call(
            None,
            OUTREACH,
            "/watcch/applications",
            {
                "cycle_id": cycle,
                "given_name": given,
                "family_name": "Student",
                "date_of_birth": (today() - timedelta(days=17 * 365 + 60)).isoformat(),
                "email": f"{given}@example.com",
                "home_postcode": postcode,
                "guardian_name": "A Parent",
                "guardian_email": f"parent.{given}@example.com",
                "referee_name": "Mr Daniel Osei",
                "referee_email": "d.osei@riverside.example.sch.uk",
                "school_urn": "100002",
                "year_group": "year_12",
                "answers": {"Why are you interested in a career in healthcare?": "I help care for my grandmother"},
                "indicators": indicators,
            },
        )

    async def applications() -> list[dict[str, Any]]:
        listed = await api.call(LEAD, OUTREACH, f"/watcch/applications?cycle_id={cycle}")
        return sorted(listed, key=lambda a: a["submitted_at"])

    apps = await applications()
    assert [a["state"] for a in apps] == ["offered", "offered", "waitlisted", "ineligible"], apps
    a, b, c, d = (app["id"] for app in apps)
    await api.call(LEAD, OUTREACH, f"/watcch/applications/{d}/decision")
    assert (await api.call(LEAD, OUTREACH, f"/watcch/applications/{a}/actions/accept", {}))["state"] == "accepted"
    assert (await api.call(LEAD, OUTREACH, f"/watcch/applications/{b}/actions/decline", {}))["state"] == "declined"

    async def c_offered() -> bool:
        return bool((await api.call(LEAD, OUTREACH, f"/watcch/applications/{c}"))["state"] == "offered")

    await eventually(c_offered, "the waitlisted application offered the declined place by itself")
    await api.call(LEAD, OUTREACH, f"/watcch/applications/{c}/actions/accept", {})
    for app in (a, c):
        assert (await api.call(LEAD, OUTREACH, f"/watcch/applications/{app}/actions/enrol", {}))["state"] == "enrolled"
    pa = (await api.call(LEAD, OUTREACH, f"/watcch/applications/{a}"))["participant_id"]
    pc = (await api.call(LEAD, OUTREACH, f"/watcch/applications/{c}"))["participant_id"]
    done.kept_participant = pc

    # 4. A workshop yesterday: registrations and attendance
    yesterday = (today() - timedelta(days=1)).isoformat()
    workshop = await api.create(
        LEAD,
        OUTREACH,
        "/activities",
        {
            "cycle_id": cycle,
            "kind": "workshop",
            "title": "Personal statements that work",
            "starts_at": f"{yesterday}T10:00:00Z",
            "ends_at": f"{yesterday}T15:30:00Z",
            "place": "Lecture theatre 2",
            "capacity": 20,
        },
    )
    for participant in (pa, pc):
        await api.call(LEAD, OUTREACH, f"/activities/{workshop}/registrations", {"participant_id": participant})
    await api.call(
        LEAD, OUTREACH, f"/activities/{workshop}/attendance/{pa}", {"attendance": "present", "hours": 5.5}, method="PUT"
    )
    await api.call(
        LEAD, OUTREACH, f"/activities/{workshop}/attendance/{pc}", {"attendance": "late", "hours": 4.5}, method="PUT"
    )

    # 5. A pre/post questionnaire
    survey = await api.create(
        LEAD,
        OUTREACH,
        "/surveys/questionnaires",
        {
            "name": "Confidence and belonging",
            "items": [
                {"code": "know_how_to_apply", "text": "I know how to apply to study medicine"},
                {"code": "belong_at_university", "text": "People like me belong at university"},
            ],
        },
    )
    for participant, kind, know, belong in (
        (pa, "pre", 2, 3),
        (pc, "pre", 1, 2),
        (pa, "post", 4, 4),
        (pc, "post", 4, 3),
    ):
        await api.call(
            LEAD,
            OUTREACH,
            "/surveys/responses",
            {
                "questionnaire_id": survey,
                "version": 1,
                "participant_id": participant,
                "cycle_id": cycle,
                "kind": kind,
                "answers": {"know_how_to_apply": know, "belong_at_university": belong},
            },
        )
    change = await api.call(LEAD, OUTREACH, f"/surveys/questionnaires/{survey}/cycles/{cycle}/change")
    assert [item["n"] for item in change["items"]] == [2, 2], change

    # 6. Progression; 7. the impact report
    offered = await api.call(
        LEAD,
        OUTREACH,
        f"/participants/{pa}/outcomes",
        {
            "stage": "offered",
            "course_type": "medicine",
            "entry_year": today().year + 1,
            "source": "ucas",
            "occurred_on": today().isoformat(),
        },
    )
    assert offered["stage"] == "offered"
    await api.call(LEAD, OUTREACH, "/reports/impact?policy=hesa")
    csv = await api.request(OUTREACH, "GET", "/reports/impact.csv", LEAD)
    assert csv.is_success, csv.text


# Safeguarding, consent, mentoring and erasure -------------------------------------------------------------------------


async def safeguarding(api: Across, done: Done) -> None:
    enrolled = await api.call(LEAD, OUTREACH, f"/watcch/applications?cycle_id={done.cycle}&state=enrolled")
    pa = sorted(enrolled, key=lambda a: a["submitted_at"])[0]["participant_id"]
    assert pa != done.kept_participant

    # 1. An enhanced check for the adult workforce
    await api.call(LEAD, OUTREACH, "/safeguarding/people", {"person_id": "2301236", "full_name": "Jo Adeyemi"})
    await api.call(
        LEAD,
        OUTREACH,
        "/safeguarding/people/2301236/dbs-checks",
        {
            "level": "enhanced_barred_children",
            "workforce": "adult",
            "certificate_number": "004455667788",
            "issued_on": days(-60),
            "seen_how": "update_service",
            "status_checked_on": days(-30),
            "status_result": "no_change",
        },
    )
    await api.call(
        LEAD,
        OUTREACH,
        "/safeguarding/people/2301236/training",
        {"completed_on": days(-50), "expires_on": days(3 * 365)},
    )
    mentoring = await api.call(LEAD, OUTREACH, "/safeguarding/people/2301236/clearance?contact=unsupervised_or_regular")
    assert "dbs_workforce" in [u["code"] for u in mentoring["unmet"]], mentoring
    assert (await api.call(LEAD, OUTREACH, "/safeguarding/people/2301236/clearance?contact=supervised_occasional"))[
        "cleared"
    ]
    check = (await api.call(LEAD, OUTREACH, "/safeguarding/people/2301234"))["dbs_checks"][0]["check_id"]
    verified = await api.call(
        LEAD,
        OUTREACH,
        f"/safeguarding/people/2301234/dbs-checks/{check}/verification",
        {"certificate_number": "001234567890"},
    )
    assert verified == {"matches": True}
    await api.call(LEAD, OUTREACH, "/safeguarding/reports/cleared?contact=unsupervised_or_regular")

    # 2. Consent: texts, then the participant's and a parent's consent to taking part and to mentoring
    for scope in ("taking_part", "mentoring"):
        await api.call(
            LEAD,
            OUTREACH,
            "/consent/texts",
            {"scope": scope, "text": f"I agree to {scope} as the WATCCH leaflet (version 1) explains"},
        )
    for party in ("participant", "guardian"):
        for scope in ("taking_part", "mentoring"):
            await api.call(
                LEAD,
                OUTREACH,
                f"/participants/{pa}/consents",
                {"party": party, "scope": scope, "text_version": 1, "method": "online_form"},
            )
    scopes = (await api.call(LEAD, OUTREACH, f"/participants/{pa}/consents"))["scopes"]
    assert all(s["valid"] for s in scopes if s["scope"] in ("taking_part", "mentoring")), scopes

    # 3. Mentoring
    programme = await api.create(
        LEAD,
        OUTREACH,
        "/mentoring/programmes",
        {
            "cycle_id": done.cycle,
            "name": "WATCCH mentoring",
            "starts_on": days(PROGRAMME_STARTS),
            "ends_on": days(PROGRAMME_ENDS),
            "interests": ["surgery", "general_practice", "applying_to_medicine"],
        },
    )
    evening = [{"weekday": "tuesday", "part_of_day": "evening"}]
    for student in ("2301234", "2301236"):
        await api.call(
            LEAD,
            OUTREACH,
            f"/mentoring/programmes/{programme}/mentors/{student}",
            {"interests": ["applying_to_medicine", "surgery"], "availability": evening, "max_mentees": 2},
            method="PUT",
        )
    await api.call(
        LEAD,
        OUTREACH,
        f"/mentoring/programmes/{programme}/mentees/{pa}",
        {"interests": ["applying_to_medicine"], "availability": evening},
        method="PUT",
    )
    suggestions = await api.call(LEAD, OUTREACH, f"/mentoring/programmes/{programme}/mentees/{pa}/suggestions")
    assert [m["mentor_id"] for m in suggestions["ranked"]] == ["2301234"], suggestions
    refused = await api.request(
        OUTREACH,
        "POST",
        "/mentoring/matches",
        LEAD,
        json={"programme_id": programme, "mentor_id": "2301236", "participant_id": pa},
    )
    assert refused.status_code == 409, refused.text
    match = await api.create(
        LEAD,
        OUTREACH,
        "/mentoring/matches",
        {"programme_id": programme, "mentor_id": "2301234", "participant_id": pa},
    )
    sam_t = token(Role.STUDENT, user="2301234")
    assert (await api.call(sam_t, OUTREACH, f"/mentoring/matches/{match}/actions/accept", method="POST"))[
        "state"
    ] == "active"
    session = {
        "held_on": today().isoformat(),
        "mode": "online",
        "minutes": 45,
        "topic": "applying_to_medicine",
        "notes": "Talked through work experience at the practice",
    }
    await api.call(sam_t, OUTREACH, f"/mentoring/matches/{match}/sessions", session)

    # 4. A parent withdraws consent to mentoring: the match pauses at once
    await api.call(
        LEAD,
        OUTREACH,
        f"/participants/{pa}/consents/withdrawals",
        {"party": "guardian", "scope": "mentoring", "method": "email"},
    )
    paused = await api.call(LEAD, OUTREACH, f"/mentoring/matches/{match}")
    assert (paused["state"], paused["pause_reasons"]) == ("paused", ["consent_withdrawn"]), paused
    refused = await api.request(OUTREACH, "POST", f"/mentoring/matches/{match}/sessions", sam_t, json=session)
    assert refused.status_code == 409, refused.text
    await api.call(LEAD, OUTREACH, f"/participants/{pa}/consents/history")

    # 5. Forget me
    erased = await api.call(
        LEAD,
        OUTREACH,
        f"/participants/{pa}/erasure",
        {"reason": "subject_request", "request_reference": "DPO-2026-0142"},
    )
    assert erased["status"] != "already_erased", erased
    again = await api.call(LEAD, OUTREACH, f"/participants/{pa}/erasure", {"reason": "subject_request"})
    assert again["status"] == "already_erased", again
    done.erased.append(pa)

    # 6. The retention sweep, run now
    await api.call(LEAD, OUTREACH, "/retention/reviews", method="POST")


# Partner webhooks and emails ------------------------------------------------------------------------------------------


async def webhooks(api: Across, receiver: WebhookReceiver, done: Done) -> None:
    partner = await api.create(
        LEAD,
        PROJECTS,
        "/partners",
        {"name": "Northside Youth Trust", "kind": "charity", "contact_email": "tech@northside.example"},
    )
    done.partners.append(partner)
    nyt = done.partner_token = token(Role.PARTNER, partner=uuid.UUID(partner))
    catalogue = await api.call(None, NOTIFICATIONS, "/webhooks/event-types")
    assert "agreement.added.v1" in [t["name"] for t in catalogue["items"]]

    registered = await api.call(
        nyt,
        NOTIFICATIONS,
        "/webhooks/endpoints",
        {
            "url": f"{receiver.url}/medic",
            "description": "Our CRM",
            "event_types": ["agreement.added.v1", "project.approved.v1"],
        },
    )
    done.endpoint, receiver.secret = registered["id"], registered["secret"]

    def delivered(path: str) -> int:
        return len([d for d in receiver.deliveries if d.path == path])

    await api.call(
        LEAD,
        PROJECTS,
        f"/partners/{partner}/agreements",
        {"kind": "partnership_mou", "starts_on": days(-90), "ends_on": days(275)},
    )
    done.agreements[partner] = 1

    async def verified(count: int) -> bool:
        return len([d for d in receiver.deliveries if d.verified]) >= count

    await eventually(lambda: verified(1), "the agreement delivered to the partner's endpoint")

    # 4. Rotate the secret: the receiver, still holding the old one, verifies a test event
    await api.call(nyt, NOTIFICATIONS, f"/webhooks/endpoints/{done.endpoint}/secret/rotate", method="POST")
    await api.call(nyt, NOTIFICATIONS, f"/webhooks/endpoints/{done.endpoint}/test", method="POST")
    await eventually(lambda: verified(2), "the test event delivered, signed by the old secret too")

    # 5. An endpoint answering 410 Gone is disabled at once, and people are emailed
    done.retired_endpoint = await api.create(
        nyt,
        NOTIFICATIONS,
        "/webhooks/endpoints",
        {"url": f"{receiver.url}/retired", "event_types": ["agreement.added.v1"]},
    )
    await api.call(
        LEAD,
        PROJECTS,
        f"/partners/{partner}/agreements",
        {"kind": "data_sharing", "starts_on": days(-90), "ends_on": days(275)},
    )
    done.agreements[partner] += 1

    async def retired() -> bool:
        endpoint = await api.call(nyt, NOTIFICATIONS, f"/webhooks/endpoints/{done.retired_endpoint}")
        return delivered("/retired") >= 1 and endpoint["enabled"] is False

    await eventually(retired, "the endpoint answering 410 disabled")
    await api.call(nyt, NOTIFICATIONS, f"/webhooks/endpoints/{done.endpoint}/summary")


# Timers made due from outside -----------------------------------------------------------------------------------------


async def due_timers(api: Across, done: Done) -> None:
    """Things whose timers are due at once: a cohort whose projects missed a milestone yesterday and have one in three
    days; a participant's consents ending in five days (inside the 14-day reminder); training ending in ten days."""
    start = today() - timedelta(days=30)
    cohort = await api.create(
        LEAD,
        PROJECTS,
        "/cohorts",
        {
            "academic_year": academic_year("-", ago=1),  # one cohort a year: the CAP year has this one
            "placement_start": start.isoformat(),
            "placement_end": (start + timedelta(days=70)).isoformat(),
        },
    )
    practice = await api.create(
        LEAD, PROJECTS, "/practices", {"name": "Timers Surgery", "ods_code": "E85999", "area": "Hackney"}
    )
    await api.call(
        LEAD,
        PROJECTS,
        "/supervisors",
        {"user_id": "dr.timer", "name": "Dr Timer", "email": "timer@nhs.example", "practice_ids": [practice]},
    )
    for n in range(3):
        university_id = f"29000{n}"
        student = await api.create(
            LEAD,
            PROJECTS,
            "/students",
            {"university_id": university_id, "name": f"Timer {n}", "email": f"timer{n}@student.example.ac.uk"},
        )
        group = await api.create(
            LEAD,
            PROJECTS,
            "/groups",
            {"cohort_id": cohort, "practice_id": practice, "name": f"T{n}", "student_ids": [student]},
        )
        project = await api.call(
            token(Role.STUDENT, user=university_id),
            PROJECTS,
            "/projects",
            {"group_id": group, "title": f"Timers {n}", "topic": "timers"},
        )
        done.reminder_projects.append(project["id"])
    for kind, due_on in (
        ("proposal_due", today() - timedelta(days=1)),
        ("governance_due", today() + timedelta(days=3)),
    ):
        await api.call(
            LEAD, PROJECTS, f"/cohorts/{cohort}/milestones/{kind}", {"due_on": due_on.isoformat()}, method="PUT"
        )

    pc = done.kept_participant
    for party in ("participant", "guardian"):
        await api.call(
            LEAD,
            OUTREACH,
            f"/participants/{pc}/consents",
            {
                "party": party,
                "scope": "taking_part",
                "text_version": 1,
                "method": "online_form",
                "expires_on": (today() + timedelta(days=5)).isoformat(),
            },
        )
        done.expiring_consents += 1

    person = done.expiring_training_person = "2301299"
    await api.call(LEAD, OUTREACH, "/safeguarding/people", {"person_id": person, "full_name": "Tam Timers"})
    await api.call(
        LEAD,
        OUTREACH,
        f"/safeguarding/people/{person}/training",
        {
            "completed_on": (today() - timedelta(days=700)).isoformat(),
            "expires_on": (today() + timedelta(days=10)).isoformat(),
        },
    )


# A replica killed mid-flight ------------------------------------------------------------------------------------------


async def crash_mid_flight(api: Across, replicas: ReplicaSet, done: Done) -> None:
    """A burst of partner registrations to one projects replica; the outreach replica consuming half of them killed
    outright (SIGKILL) halfway through, and that projects replica killed as its last answer arrives, its relay still
    publishing; both started again. What the dead consumer held unacknowledged is redelivered to the other, what the
    dead relay held is published by the other's sweep once its lease runs out: each event still applied once."""
    projects, consumer = replicas.processes(PROJECTS)[0], replicas.processes(OUTREACH)[1]
    headers = {"Authorization": f"Bearer {LEAD}"}
    # A few at a time: PostgreSQL's connections are shared with every other test run on the machine.
    in_flight = asyncio.Semaphore(6)

    async def register(n: int) -> httpx.Response:
        body = {"name": f"Burst partner {n}", "kind": "charity", "contact_email": f"burst{n}@partners.example"}
        async with in_flight:
            return await api.client.post(f"{projects.url}/partners", json=body, headers=headers)

    burst = [register(n) for n in range(40)]
    for answered, reply in enumerate(asyncio.as_completed(burst), start=1):
        response = await reply
        assert response.status_code == 201, response.text
        done.partners.append(response.json()["id"])
        if answered == len(burst) // 2:
            consumer.kill()
    projects.kill()
    await asyncio.to_thread(replicas.start)  # the killed ones again, until ready
