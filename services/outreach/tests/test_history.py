"""The append-only history on SQLite and PostgreSQL: appended in order, read as known at a moment, stripped or
erased only by erasure."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from medic.outreach.domain.history import Stream, end_of_day
from services.outreach.tests.school_support import Outreach

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


async def test_events_are_read_in_order_and_as_known_at_a_moment(outreach_app: Outreach) -> None:
    uow = outreach_app.service.app.state.uow_factory()
    async with uow:
        for day, type_ in enumerate(("given", "withdrawn", "given")):
            await uow.history.append(
                Stream.CONSENT, "p1", type_, {"n": day}, recorded_at=T0 + timedelta(days=day), recorded_by="c1"
            )
        await uow.history.append(Stream.SAFEGUARDING, "p1", "other", {}, recorded_at=T0, recorded_by="c1")
        await uow.commit()
    async with uow:
        everything = await uow.history.events(Stream.CONSENT, "p1")
        by_the_11th = await uow.history.events(
            Stream.CONSENT, "p1", known_at=end_of_day(date(2026, 3, 11), ZoneInfo("Europe/London"))
        )
        assert [e.type for e in everything] == ["given", "withdrawn", "given"]
        assert [e.data["n"] for e in by_the_11th] == [0, 1]
        assert await uow.history.subjects(Stream.CONSENT) == ["p1"]
        assert list(await uow.history.all_events(Stream.SAFEGUARDING)) == ["p1"]
        assert await uow.history.lock(Stream.CONSENT, "p1", now=T0) == 3


async def test_strip_keeps_what_it_is_told_and_erase_leaves_nothing(outreach_app: Outreach) -> None:
    uow = outreach_app.service.app.state.uow_factory()
    async with uow:
        await uow.history.append(
            Stream.SAFEGUARDING, "s1", "a", {"secret": "x", "level": "enhanced"}, recorded_at=T0, recorded_by="c1"
        )
        await uow.history.append(Stream.SAFEGUARDING, "s1", "b", {"note": "y"}, recorded_at=T0, recorded_by="c1")
        kept = await uow.history.strip(
            Stream.SAFEGUARDING, "s1", lambda e: {"level": e.data["level"]} if e.type == "a" else None
        )
        await uow.commit()
    assert [(e.type, dict(e.data)) for e in kept] == [("a", {"level": "enhanced"})]
    async with uow:
        assert [dict(e.data) for e in await uow.history.events(Stream.SAFEGUARDING, "s1")] == [{"level": "enhanced"}]
        assert await uow.history.erase(Stream.SAFEGUARDING, "s1") == 1
        assert await uow.history.events(Stream.SAFEGUARDING, "s1") == []
        assert await uow.history.subjects(Stream.SAFEGUARDING) == []
        await uow.commit()
