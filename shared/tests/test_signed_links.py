"""Signed links: a token stored only as its hash, a resend interval, expiry, replaced by a newer one, decides once."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.shared.signed_links import LinkPolicy, LinkRefused, SignedLink, TooSoon, hash_token

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = LinkPolicy(lifetime=timedelta(days=14), resend_after=timedelta(days=3))


class Answer(StrEnum):
    CONFIRMED = "confirmed"
    DECLINED = "declined"


@dataclass(kw_only=True)
class RefereeLink(SignedLink[Answer]):
    application_id: uuid.UUID

    expired_reason: ClassVar[str] = "this link has expired; ask the applicant for a new one"


def issued(now: datetime = NOW, last_issued_at: datetime | None = None) -> tuple[str, RefereeLink]:
    return RefereeLink.issue(POLICY, now=now, last_issued_at=last_issued_at, application_id=uuid.UUID(int=7))


def refusal(check: Callable[..., object], *args: object) -> LinkRefused:
    with pytest.raises(LinkRefused) as refused:
        check(*args)
    return refused.value


def test_a_link_keeps_only_the_hash_of_a_long_random_token() -> None:
    token, link = issued()
    other_token, _ = issued()
    assert len(token) >= 43 and token != other_token
    assert link.token_hash == hash_token(token) != token
    assert len(link.token_hash) == 64 and int(link.token_hash, 16) >= 0  # SHA-256, hex
    assert token not in repr(link)
    assert hash_token(token) == hash_token(token) != hash_token(other_token)


def test_a_link_carries_its_purpose_fields_and_lifetime() -> None:
    _, link = issued()
    assert isinstance(link, RefereeLink) and link.application_id == uuid.UUID(int=7)
    assert (link.issued_at, link.expires_at) == (NOW, NOW + timedelta(days=14))
    assert (link.superseded, link.decision, link.decided_at) == (False, None, None)


def test_a_resend_waits_for_the_interval() -> None:
    last = NOW - timedelta(days=3) + timedelta(seconds=1)
    with pytest.raises(TooSoon) as too_soon:
        issued(last_issued_at=last)
    assert too_soon.value.next_allowed_at == last + timedelta(days=3)
    assert "can be sent from 2026-03-02T09:00" in str(too_soon.value)
    _, link = issued(last_issued_at=NOW - timedelta(days=3))  # exactly the interval: allowed
    assert link.issued_at == NOW


def test_a_link_decides_once() -> None:
    _, link = issued()
    link.decide(Answer.CONFIRMED, NOW + timedelta(hours=1))
    assert (link.decision, link.decided_at) == (Answer.CONFIRMED, NOW + timedelta(hours=1))
    used = refusal(link.decide, Answer.DECLINED, NOW + timedelta(hours=2))
    assert not used.gone and str(used) == "this link has been used: the answer was confirmed"
    assert link.decision is Answer.CONFIRMED  # unchanged
    link.check_viewable(NOW + timedelta(days=30))  # still shows its answer, even past its expiry


def test_an_expired_link_is_gone_with_the_purpose_wording() -> None:
    _, link = issued()
    link.check_usable(NOW + timedelta(days=14) - timedelta(microseconds=1))
    expired = refusal(link.decide, Answer.CONFIRMED, NOW + timedelta(days=14))
    assert expired.gone and str(expired) == "this link has expired; ask the applicant for a new one"
    assert refusal(link.check_viewable, NOW + timedelta(days=14)).gone
    assert link.decision is None and link.decided_at is None


def test_a_replaced_link_is_gone_even_once_decided() -> None:
    _, link = issued()
    link.decide(Answer.DECLINED, NOW)
    link.superseded = True
    replaced = refusal(link.check_viewable, NOW)
    assert replaced.gone and str(replaced) == "this link has been replaced by a newer one"
    _, fresh = issued()
    fresh.superseded = True
    assert refusal(fresh.decide, Answer.CONFIRMED, NOW).gone and fresh.decision is None


moments = st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=30))


@given(moments, st.booleans(), st.one_of(st.none(), st.sampled_from(Answer)))
def test_a_link_takes_a_decision_exactly_when_current_unused_and_unexpired(
    offset: timedelta, superseded: bool, decision: Answer | None
) -> None:
    _, link = issued()
    link.superseded, link.decision = superseded, decision
    now = NOW + offset
    usable = not superseded and decision is None and now < link.expires_at
    try:
        link.decide(Answer.CONFIRMED, now)
    except LinkRefused as refused:
        assert not usable
        assert refused.gone == (superseded or decision is None)  # only "used" is a 409
        assert link.decision is decision
    else:
        assert usable and link.decided_at == now
