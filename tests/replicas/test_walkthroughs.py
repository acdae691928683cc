"""Two processes of every service against PostgreSQL, the README's walk-throughs driven across them over HTTP, and
what must hold when work is shared: every event applied exactly once, timers fired once with two schedulers running,
webhook deliveries and emails sent once, and either replica's live tail carrying every event.

The walk-throughs run once per module (starting six processes on a small machine takes a while); each test checks
one of those promises against what they left behind: the ops log, the services' own tables, the receiver's record,
the mail directory.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.replicas import walkthroughs
from tests.replicas.drive import Across, LiveTail, WebhookReceiver, duplicates, eventually, mails, query
from tests.replicas.processes import FAST_TIMERS, ReplicaSet, running_replicas
from tests.replicas.walkthroughs import LEAD, Done

pytestmark = [pytest.mark.integration, pytest.mark.replicas, pytest.mark.timeout(300)]

# The timers look every 0.5 s (FAST_TIMERS): this is several ticks of every scheduler on both replicas.
SEVERAL_TICKS_S = 3.0
TIMER_EVENTS = (
    "projects.milestone.overdue.v1",
    "projects.milestone.approaching.v1",
    "outreach.consent.expiring.v1",
    "outreach.safeguarding_training.expiring.v1",
)


@dataclass
class Run:
    replicas: ReplicaSet
    api: Across
    done: Done
    tails: list[LiveTail]
    receiver: WebhookReceiver

    async def ops_log(self) -> list[dict[str, Any]]:
        """Every entry of the ops log, read page by page from the notifications replicas in turn."""
        return await self.api.pages(LEAD, "notifications", "/events", limit=500)

    async def rows(self, service: str, sql: str) -> list[Any]:
        return await query(self.replicas.database_urls[service], sql)


@pytest.fixture(scope="module")
async def replicas(rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ReplicaSet]:
    directory = tmp_path_factory.mktemp("replicas")
    async with running_replicas(directory, rabbitmq_urls=[rabbitmq_url], extra_env=FAST_TIMERS) as replica_set:
        yield replica_set


@pytest.fixture(scope="module")
async def run(replicas: ReplicaSet) -> AsyncIterator[Run]:
    async with httpx.AsyncClient(timeout=30) as client:
        api = Across(replicas, client)
        tails = [LiveTail(url) for url in replicas.urls("notifications")]
        receiver = WebhookReceiver()
        await receiver.start()
        try:
            for tail in tails:  # before anything happens: they must carry every event
                await tail.open(client, LEAD)
            done = Done()
            await walkthroughs.cap_year(api, replicas.mail_dir, done)
            await walkthroughs.crash_mid_flight(api, replicas, done)
            await walkthroughs.outreach(api, done)
            await walkthroughs.safeguarding(api, done)
            await walkthroughs.webhooks(api, receiver, done)
            await walkthroughs.due_timers(api, done)
            run = Run(replicas, api, done, tails, receiver)
            await _settled(run)
            yield run
        finally:
            for tail in tails:
                await tail.close()
            await receiver.stop()


async def _settled(run: Run) -> None:
    """Wait until the system is quiet: outboxes published, the timers' events logged, emails out; then let every
    scheduler tick several more times, so a second firing or sending would have happened by now."""

    async def outboxes_empty() -> bool:
        for service in ("projects", "outreach"):
            if await run.rows(service, "SELECT 1 FROM outbox WHERE state <> 'published'"):
                return False
        return True

    await eventually(outboxes_empty, "every outbox published", timeout_s=60)

    async def all_applied() -> set[str]:
        published = set()
        for service in ("projects", "outreach"):
            published |= {str(r["event_id"]) for r in await run.rows(service, "SELECT event_id FROM outbox")}
        applied = {str(r["event_id"]) for r in await run.rows("notifications", "SELECT event_id FROM inbox")}
        return published - applied

    missing = await all_applied()
    deadline = asyncio.get_running_loop().time() + 30
    while missing and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.3)
        missing = await all_applied()
    assert not missing, f"{len(missing)} published events never reached notifications: {sorted(missing)[:10]}"

    async def timers_logged() -> Counter[str]:
        counts = Counter(e["type"] for e in await run.ops_log() if e["type"] in TIMER_EVENTS)
        return counts if len(counts) == len(TIMER_EVENTS) else Counter()

    await eventually(timers_logged, f"each of {TIMER_EVENTS} in the ops log", timeout_s=60)

    async def emails_out() -> bool:
        return not await run.rows("notifications", "SELECT 1 FROM emails WHERE status = 'queued'")

    await eventually(emails_out, "no email still queued", timeout_s=60)
    await asyncio.sleep(SEVERAL_TICKS_S)


async def test_requests_went_to_every_replica(run: Run) -> None:
    for service in ("projects", "outreach", "notifications"):
        for url in run.replicas.urls(service):
            assert run.api.served[url] > 0, f"{service} {url} answered nothing"
    for process in run.replicas.all():
        assert process.alive(), f"{process} died:\n{process.tail()}"


async def test_every_event_is_logged_once_and_applied_once_by_each_consumer(run: Run) -> None:
    logged = [event["id"] for event in await run.ops_log()]
    assert logged, "nothing in the ops log"
    assert not duplicates(logged), f"events logged more than once: {duplicates(logged)}"

    for service in ("notifications", "outreach"):
        twice = await run.rows(service, "SELECT event_id, count(*) FROM inbox GROUP BY event_id HAVING count(*) > 1")
        assert not twice, f"{service} applied events more than once: {twice}"
    applied = {str(r["event_id"]) for r in await run.rows("notifications", "SELECT event_id FROM inbox")}
    published = {
        service: {
            str(r["event_id"]): r
            for r in await run.rows(service, "SELECT event_id, event_type, body FROM outbox WHERE state = 'published'")
        }
        for service in ("projects", "outreach")
    }
    for service, events in published.items():
        lost = set(events) - applied
        assert not lost, f"{len(lost)} of {service}'s published events never reached notifications: {lost}"
    assert set(logged) <= applied

    # Applied but not (or no longer) in the ops log: only events about the erased participant, which it forgets.
    erased = run.done.erased
    assert erased, "the walk-through erases a participant"
    unlogged = applied - set(logged)
    assert unlogged, "the erasure forgot nothing"
    for event_id in unlogged:
        event = published["outreach"].get(event_id)
        assert event is not None and any(p in bytes(event["body"]).decode() for p in erased), (
            f"event {event_id} ({event and event['event_type']}) was applied but is not in the ops log"
        )

    # Outreach consumes some of projects' events: each one it subscribes to, exactly once.
    consumed = {str(r["event_id"]): r["event_type"] for r in await run.rows("outreach", "SELECT * FROM inbox")}
    assert consumed, "outreach consumed nothing"
    assert set(consumed) <= set(published["projects"]), "outreach applied an event projects did not publish"
    wanted = set(consumed.values())
    missed = {i for i, r in published["projects"].items() if r["event_type"] in wanted and i not in consumed}
    assert not missed, f"outreach missed events of types it consumes: {missed}"


async def test_read_models_and_counts_agree_with_what_was_done(run: Run) -> None:
    source = await run.api.call(LEAD, "projects", "/partners?limit=500")
    copy = await run.api.call(LEAD, "outreach", "/partners?limit=500")
    source_ids, copy_ids = [p["id"] for p in source], [p["id"] for p in copy]
    assert not duplicates(copy_ids), f"outreach's read model holds partners twice: {duplicates(copy_ids)}"
    assert sorted(copy_ids) == sorted(source_ids) == sorted(run.done.partners)

    types = Counter(event["type"] for event in await run.ops_log())
    assert types["projects.partner.registered.v1"] == len(run.done.partners), types
    assert types["projects.partner_agreement.added.v1"] == sum(run.done.agreements.values()), types
    for project, state in run.done.projects.items():
        assert (await run.api.call(LEAD, "projects", f"/projects/{project}"))["state"] == state
        closed = await run.api.call(LEAD, "notifications", f"/events?subject=projects/{project}&limit=500")
        project_types = Counter(e["type"] for e in closed["items"])
        assert project_types["projects.project.closed.v1"] == 1, project_types


async def test_timers_fire_once_with_two_schedulers_running(run: Run) -> None:
    events = [e for e in await run.ops_log() if e["type"] in TIMER_EVENTS]
    fired = Counter(e["type"] for e in events)
    projects = len(run.done.reminder_projects)
    assert fired == {
        "projects.milestone.overdue.v1": projects,  # proposal_due was yesterday
        "projects.milestone.approaching.v1": projects,  # governance_due is in three days
        "outreach.consent.expiring.v1": run.done.expiring_consents,
        "outreach.safeguarding_training.expiring.v1": 1,
    }, fired
    reminded = Counter(e["data"]["project_id"] for e in events if e["type"].startswith("projects.milestone."))
    assert reminded == dict.fromkeys(run.done.reminder_projects, 2), reminded

    keys = await run.rows("projects", "SELECT key FROM fired_timers WHERE key LIKE 'milestone:%'")
    assert len(keys) == 2 * projects, keys
    # Both schedulers were running throughout, and between them fired each reminder once.
    for index in range(2):
        started = [r for r in run.replicas.records("projects", index) if r.get("event") == "periodic.started"]
        assert any(r.get("job") == "ReminderScheduler" for r in started), f"projects {index} ran no reminders"
    firings = [
        r.get("count", 0)
        for index in range(2)
        for r in run.replicas.records("projects", index)
        if r.get("event") == "reminders.fired"
    ]
    assert sum(firings) == 2 * projects, firings
    assert all(p.alive() for p in run.replicas.processes("projects"))


async def test_webhook_deliveries_are_sent_once(run: Run) -> None:
    deliveries = run.receiver.deliveries
    assert all(d.verified for d in deliveries if d.path == "/medic"), deliveries
    ids = [d.message_id for d in deliveries if d.path == "/medic"]
    assert not duplicates(ids), f"messages delivered more than once: {duplicates(ids)}"
    # Two agreements (the second also to the working endpoint) and the test event.
    assert Counter(d.type for d in deliveries if d.path == "/medic") == {"agreement.added.v1": 2, "webhook.test.v1": 1}
    assert len([d for d in deliveries if d.path == "/retired"]) == 1, "410 Gone disables the endpoint at once"

    attempts = await run.api.call(
        run.done.partner_token, "notifications", f"/webhooks/endpoints/{run.done.endpoint}/attempts"
    )
    assert [a["outcome"] for a in attempts["items"]].count("succeeded") == 3, attempts


async def test_emails_are_sent_once(run: Run) -> None:
    emails = await run.api.pages(LEAD, "notifications", "/emails", limit=200)
    assert emails, "no emails"
    assert not [e for e in emails if e["status"] != "sent"], [e for e in emails if e["status"] != "sent"]
    causes = [(e["kind"], e["cause_id"], e["recipient"]) for e in emails]
    assert not duplicates(causes)

    written = mails(run.replicas.mail_dir)
    assert not duplicates([m.message_id for m in written]), "an email written twice"
    assert len(written) == len(emails), f"{len(written)} files for {len(emails)} emails sent"
    for sent in emails:
        files = [m for m in written if m.path.name.endswith(f"-{sent['id']}.eml")]
        assert len(files) == 1, f"email {sent['id']} ({sent['kind']}) written {len(files)} times"

    def to(address: str, subject_start: str) -> int:
        return len([m for m in written if address in m.to and m.subject.startswith(subject_start)])

    assert to(run.done.verification_mail_to, "Please confirm") == 1
    disabled = [e for e in emails if "disabled" in e["kind"]]
    assert {e["recipient"] for e in disabled} >= {"tech@northside.example"}, disabled


async def test_either_replicas_live_tail_carries_every_event(run: Run) -> None:
    logged = [event["id"] for event in await run.ops_log()]

    async def all_carried() -> bool:
        return all(set(logged) <= set(tail.ids) for tail in run.tails)

    try:
        await eventually(all_carried, "every logged event on both live tails", timeout_s=15)
    except AssertionError:
        missing = {tail.url: len(set(logged) - set(tail.ids)) for tail in run.tails}
        raise AssertionError(f"events of the ops log ({len(logged)}) missing from each live tail: {missing}") from None
    for tail in run.tails:
        assert not duplicates(tail.ids), f"{tail.url} carried events twice: {duplicates(tail.ids)}"
        order = [i for i in tail.ids if i in set(logged)]
        assert order == logged, f"{tail.url} carried the events out of the log's order"
