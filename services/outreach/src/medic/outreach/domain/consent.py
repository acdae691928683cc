"""WATCCH participants' consents: the wording consented to, who consented to what and when, and whether a scope is
valid on a day. No I/O.

A participant's consents are the `Stream.CONSENT` history of their pseudonymous id (domain/history.py): each record
is an event, `consent_given` or `consent_withdrawn`, and the state is a fold of the events (`fold`). Nothing is
edited: a correction is a new record (a consent given again with the right text version, or withdrawn).

Each record is for one party (the participant, or their parent or guardian) and one scope. Consent to partner
sharing names the partners; withdrawing it may name one partner (that partner only) or none (every partner the
party had named). A record's key is (party, scope, partner): the latest record for a key stands.

A scope is valid on a day when every party whose consent is needed that day has a given consent standing for it,
not expired that day (`expires_on` is the last day it holds). Withdrawal takes effect from the moment it is
recorded. The participant's own consent is always needed; a parent's or guardian's too while the participant is
under the policy age (a setting, 18 by default, never below 13: under-13s always need one). Each scope stands
alone: an activity needing several asks for all of them.
"""

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from .conditions import Unmet
from .history import HistoryEvent

GIVEN = "consent_given"
WITHDRAWN = "consent_withdrawn"
MIN_GUARDIAN_AGE = 13  # under this age a parent's or guardian's consent is always needed (UK GDPR, art. 8)
DEFAULT_GUARDIAN_AGE = 18
DEFAULT_REMINDER_DAYS = 14
MAX_TEXT = 20_000


class ConsentScope(StrEnum):
    TAKING_PART = "taking_part"
    MENTORING = "mentoring"
    PHOTOGRAPHS = "photographs"
    PARTNER_SHARING = "partner_sharing"
    RESEARCH = "research"


class Party(StrEnum):
    PARTICIPANT = "participant"
    GUARDIAN = "guardian"  # a parent or guardian


class ConsentMethod(StrEnum):
    ONLINE_FORM = "online_form"
    PAPER_FORM = "paper_form"
    VERBAL_RECORDED = "verbal_recorded"
    EMAIL = "email"


class Status(StrEnum):
    """A key's state on a day."""

    GIVEN = "given"  # given, not expired that day, not withdrawn
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    MISSING = "missing"  # never recorded


class InvalidConsent(ValueError):
    """A request contradicting another field, the record or today (409 naming `field`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ConsentConflict(Exception):
    """A change the record does not allow now (409 with the reason)."""


class ConsentNotFound(Exception):
    """No such participant (404)."""


@dataclass(frozen=True)
class ConsentPolicy:
    """The policy settings: under `guardian_age` a parent's or guardian's consent is needed too (never below 13);
    expiry reminders go out `reminder_days` before a consent's last day."""

    guardian_age: int = DEFAULT_GUARDIAN_AGE
    reminder_days: int = DEFAULT_REMINDER_DAYS

    def __post_init__(self) -> None:
        if self.guardian_age < MIN_GUARDIAN_AGE:
            raise ValueError(f"the guardian age cannot be below {MIN_GUARDIAN_AGE}: under-13s always need one")
        if self.reminder_days < 1:
            raise ValueError("reminders go out at least a day before")


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def guardian_needed(born: date | None, on: date, policy: ConsentPolicy) -> bool:
    """Whether a parent's or guardian's consent is needed on `on`. An unknown date of birth (erased, or never
    held) needs one: the safe answer."""
    if born is None:
        return True
    return age_on(born, on) < max(policy.guardian_age, MIN_GUARDIAN_AGE)


def needed_parties(born: date | None, on: date, policy: ConsentPolicy) -> tuple[Party, ...]:
    if guardian_needed(born, on, policy):
        return (Party.PARTICIPANT, Party.GUARDIAN)
    return (Party.PARTICIPANT,)


# --- the texts consented to -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentText:
    """One published version of a scope's wording. Never edited: a change is the next version."""

    scope: ConsentScope
    version: int
    text: str
    published_at: datetime
    published_by: str


def clean_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned or len(cleaned) > MAX_TEXT:
        raise InvalidConsent("text", f"the wording: 1 to {MAX_TEXT} characters")
    return cleaned


# --- records and the fold -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GiveConsent:
    """A consent given: by `party`, to `scope` (partner sharing: with `partner_ids`), in the words of
    `text_version`, recorded by `method`, the form dated `form_dated_on` (on paper: required)."""

    party: Party
    scope: ConsentScope
    text_version: int
    method: ConsentMethod
    partner_ids: frozenset[uuid.UUID] = frozenset()
    form_dated_on: date | None = None
    expires_on: date | None = None  # None: the end of the participant's cycle


@dataclass(frozen=True)
class WithdrawConsent:
    """A consent withdrawn: `party`'s to `scope`; for partner sharing one partner (`partner_id`) or every one."""

    party: Party
    scope: ConsentScope
    method: ConsentMethod
    partner_id: uuid.UUID | None = None
    form_dated_on: date | None = None


Key = tuple[Party, ConsentScope, uuid.UUID | None]


@dataclass(frozen=True)
class Standing:
    """The latest record for one (party, scope, partner)."""

    party: Party
    scope: ConsentScope
    partner_id: uuid.UUID | None
    given: bool
    event_id: uuid.UUID  # the record that set it
    given_event_id: uuid.UUID | None  # the consent given (for a withdrawal: the one it withdrew, if any)
    recorded_at: datetime
    recorded_by: str
    method: ConsentMethod
    text_version: int | None
    form_dated_on: date | None
    expires_on: date | None

    @property
    def key(self) -> Key:
        return (self.party, self.scope, self.partner_id)

    def status(self, on: date) -> Status:
        if not self.given:
            return Status.WITHDRAWN
        if self.expires_on is not None and on > self.expires_on:
            return Status.EXPIRED
        return Status.GIVEN


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _partners(data: Mapping[str, Any]) -> list[uuid.UUID | None]:
    if ConsentScope(data["scope"]) is not ConsentScope.PARTNER_SHARING:
        return [None]
    return [uuid.UUID(p) for p in data.get("partner_ids", [])]


def fold(events: Iterable[HistoryEvent]) -> dict[Key, Standing]:
    """Each key's standing record, from a participant's consent events in the order recorded."""
    standing: dict[Key, Standing] = {}
    for event in events:
        if event.type not in (GIVEN, WITHDRAWN):
            continue
        data = event.data
        party, scope = Party(data["party"]), ConsentScope(data["scope"])
        for partner in _partners(data):
            before = standing.get((party, scope, partner))
            given = event.type == GIVEN
            standing[(party, scope, partner)] = Standing(
                party=party,
                scope=scope,
                partner_id=partner,
                given=given,
                event_id=event.event_id,
                given_event_id=event.event_id if given else (before.given_event_id if before else None),
                recorded_at=event.recorded_at,
                recorded_by=event.recorded_by,
                method=ConsentMethod(data["method"]),
                text_version=data.get("text_version") if given else (before.text_version if before else None),
                form_dated_on=_date(data.get("form_dated_on")),
                expires_on=_date(data.get("expires_on")) if given else (before.expires_on if before else None),
            )
    return standing


def given_data(command: GiveConsent, expires_on: date | None) -> dict[str, Any]:
    """The history event's data for a consent given: ids, codes and dates only (never the wording)."""
    return {
        "party": command.party.value,
        "scope": command.scope.value,
        "partner_ids": sorted(str(p) for p in command.partner_ids),
        "text_version": command.text_version,
        "method": command.method.value,
        "form_dated_on": None if command.form_dated_on is None else command.form_dated_on.isoformat(),
        "expires_on": None if expires_on is None else expires_on.isoformat(),
    }


def check_given(
    command: GiveConsent,
    *,
    today: date,
    cycle_ends_on: date | None,
    published: bool,
    known_partners: Collection[uuid.UUID],
) -> date | None:
    """Refuses a consent that contradicts itself, the record or today (naming the field); returns its expiry: the
    one asked for, or the end of the participant's cycle."""
    if command.scope is ConsentScope.PARTNER_SHARING:
        if not command.partner_ids:
            raise InvalidConsent("partner_ids", "consent to partner sharing names the partners")
        if unknown := command.partner_ids - set(known_partners):
            raise InvalidConsent("partner_ids", f"{len(unknown)} of the partners named are not known partners")
    elif command.partner_ids:
        raise InvalidConsent("partner_ids", "only consent to partner sharing names partners")
    if not published:
        raise InvalidConsent(
            "text_version", f"version {command.text_version} of the {command.scope.value} wording is not published"
        )
    _check_form_date(command.method, command.form_dated_on, today)
    expires_on = command.expires_on or cycle_ends_on
    if command.expires_on is not None and cycle_ends_on is not None and command.expires_on > cycle_ends_on:
        raise InvalidConsent("expires_on", f"a consent expires by the end of the cycle, {cycle_ends_on.isoformat()}")
    if expires_on is not None and expires_on < today:
        raise InvalidConsent("expires_on", f"it would have expired already (on {expires_on.isoformat()})")
    return expires_on


def _check_form_date(method: ConsentMethod, form_dated_on: date | None, today: date) -> None:
    if method is ConsentMethod.PAPER_FORM and form_dated_on is None:
        raise InvalidConsent("form_dated_on", "a paper form's date is recorded with it")
    if form_dated_on is not None and form_dated_on > today:
        raise InvalidConsent("form_dated_on", "the form's date is not after today")


def withdrawal_data(command: WithdrawConsent, standing: Mapping[Key, Standing], today: date) -> dict[str, Any]:
    """The history event's data for a withdrawal, naming the partners it withdraws; refuses one that withdraws
    nothing (no consent given stands for it)."""
    if command.partner_id is not None and command.scope is not ConsentScope.PARTNER_SHARING:
        raise InvalidConsent("partner_id", "only partner sharing is withdrawn for one partner")
    _check_form_date(command.method, command.form_dated_on, today)
    given = [s for s in standing.values() if s.given and (s.party, s.scope) == (command.party, command.scope)]
    if command.partner_id is not None:
        given = [s for s in given if s.partner_id == command.partner_id]
    if not given:
        whose = "participant's" if command.party is Party.PARTICIPANT else "parent's or guardian's"
        target = f" with partner {command.partner_id}" if command.partner_id else ""
        raise ConsentConflict(f"no {whose} consent to {command.scope.value}{target} stands to withdraw")
    return {
        "party": command.party.value,
        "scope": command.scope.value,
        "partner_ids": sorted(str(s.partner_id) for s in given if s.partner_id is not None),
        "method": command.method.value,
        "form_dated_on": None if command.form_dated_on is None else command.form_dated_on.isoformat(),
    }


# --- validity -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentCheck:
    participant_id: uuid.UUID
    on: date
    valid: bool
    unmet: tuple[Unmet, ...]


def _whose(party: Party) -> str:
    return "the participant's" if party is Party.PARTICIPANT else "a parent's or guardian's"


def _unmet_for(party: Party, scope: ConsentScope, status: Status, subject: str, partner: str = "") -> Unmet | None:
    what = f"{scope.value}{partner}"
    if status is Status.GIVEN:
        return None
    if status is Status.MISSING:
        code = "consent_missing" if party is Party.PARTICIPANT else "guardian_consent_missing"
        return Unmet(code, f"{what} needs {_whose(party)} consent, and none is recorded", subject)
    if status is Status.WITHDRAWN:
        return Unmet("consent_withdrawn", f"{what}: {_whose(party)} consent was withdrawn", subject)
    return Unmet("consent_expired", f"{what}: {_whose(party)} consent has expired", subject)


def valid_partners(standing: Mapping[Key, Standing], on: date, parties: Sequence[Party]) -> set[uuid.UUID]:
    """The partners every needed party's consent to partner sharing names, valid on `on`."""
    partners: set[uuid.UUID] | None = None
    for party in parties:
        theirs = {
            s.partner_id
            for s in standing.values()
            if (s.party, s.scope) == (party, ConsentScope.PARTNER_SHARING)
            and s.partner_id is not None
            and s.status(on) is Status.GIVEN
        }
        partners = theirs if partners is None else partners & theirs
    return partners or set()


def _partner_sharing_unmet(
    standing: Mapping[Key, Standing], on: date, parties: Sequence[Party], subject: str, partner_id: uuid.UUID | None
) -> list[Unmet]:
    scope = ConsentScope.PARTNER_SHARING
    unmet: list[Unmet] = []
    for party in parties:
        theirs = [s for s in standing.values() if (s.party, s.scope) == (party, scope)]
        if partner_id is not None:
            entry = standing.get((party, scope, partner_id))
            if entry is None and theirs:
                unmet.append(Unmet("partner_not_named", f"{_whose(party)} consent to partner sharing does not name "
                                   f"partner {partner_id}", subject))  # fmt: skip
                continue
            status = Status.MISSING if entry is None else entry.status(on)
            found = _unmet_for(party, scope, status, subject, f" with partner {partner_id}")
        else:
            statuses = {s.status(on) for s in theirs}
            if Status.GIVEN in statuses:
                continue
            status = (
                Status.MISSING if not theirs else Status.EXPIRED if Status.EXPIRED in statuses else Status.WITHDRAWN
            )
            found = _unmet_for(party, scope, status, subject)
        if found is not None:
            unmet.append(found)
    if not unmet and partner_id is None and not valid_partners(standing, on, parties):
        unmet.append(Unmet("partner_not_named", "no partner is named in every needed party's consent", subject))
    return unmet


def check(
    participant_id: uuid.UUID,
    standing: Mapping[Key, Standing],
    scopes: Collection[ConsentScope],
    on: date,
    parties: Sequence[Party],
    *,
    partner_id: uuid.UUID | None = None,
) -> ConsentCheck:
    """Whether every scope asked for is valid on `on`, listing every unmet condition. Partner sharing is judged for
    `partner_id`, or without one for any partner every needed party names."""
    subject = str(participant_id)
    unmet: list[Unmet] = []
    for scope in [s for s in ConsentScope if s in scopes]:
        if scope is ConsentScope.PARTNER_SHARING:
            unmet += _partner_sharing_unmet(standing, on, parties, subject, partner_id)
            continue
        for party in parties:
            entry = standing.get((party, scope, None))
            found = _unmet_for(party, scope, Status.MISSING if entry is None else entry.status(on), subject)
            if found is not None:
                unmet.append(found)
    return ConsentCheck(participant_id, on, not unmet, tuple(unmet))


# --- expiry timers ------------------------------------------------------------------------------------------------


class ExpiryKind(StrEnum):
    REMINDER = "reminder"  # `reminder_days` before the last day (or later, while it still holds)
    EXPIRED = "expired"  # the day after the last day (or later)


@dataclass(frozen=True)
class ExpiryDue:
    kind: ExpiryKind
    given_event_id: uuid.UUID
    party: Party
    scope: ConsentScope
    partner_ids: tuple[uuid.UUID, ...]
    expires_on: date

    @property
    def key(self) -> str:
        """Once per consent given and kind, whoever ticks and however often."""
        return f"consent_expiry:{self.kind.value}:{self.given_event_id}"


def expiry_due(standing: Mapping[Key, Standing], today: date, policy: ConsentPolicy) -> list[ExpiryDue]:
    """The reminders and expiries due today for the consents standing (given, not withdrawn, not given again)."""
    groups: dict[uuid.UUID, list[Standing]] = {}
    for s in standing.values():
        if s.given and s.expires_on is not None and s.given_event_id is not None:
            groups.setdefault(s.given_event_id, []).append(s)
    due = []
    for given_event_id, entries in groups.items():
        first = entries[0]
        assert first.expires_on is not None
        if today > first.expires_on:
            kind = ExpiryKind.EXPIRED
        elif today >= first.expires_on - timedelta(days=policy.reminder_days):
            kind = ExpiryKind.REMINDER
        else:
            continue
        partners = tuple(sorted(s.partner_id for s in entries if s.partner_id is not None))
        due.append(ExpiryDue(kind, given_event_id, first.party, first.scope, partners, first.expires_on))
    return sorted(due, key=lambda d: (d.expires_on, str(d.given_event_id)))


def partners_ever_named(events: Iterable[HistoryEvent]) -> set[uuid.UUID]:
    """Every partner a consent to partner sharing ever named (erasure tells them)."""
    named: set[uuid.UUID] = set()
    for event in events:
        if event.type == GIVEN and event.data.get("scope") == ConsentScope.PARTNER_SHARING.value:
            named |= {uuid.UUID(p) for p in event.data.get("partner_ids", [])}
    return named
