"""ArrivalPace: wait for more only while arrivals come faster than one per `wait_s`."""

from hypothesis import given
from hypothesis import strategies as st

from medic.shared.pace import ArrivalPace


def _paced(wait_s: float, gaps: list[float]) -> ArrivalPace:
    pace, now = ArrivalPace(wait_s), 100.0
    pace.arrived(now)
    for gap in gaps:
        now += gap
        pace.arrived(now)
    return pace


def test_a_lone_arrival_never_waits() -> None:
    pace = _paced(0.004, [])
    assert not pace.busy
    assert pace.wait_until(7.0) == 7.0


def test_a_fast_stream_waits_and_a_slow_one_does_not() -> None:
    assert _paced(0.004, [0.002] * 10).wait_until(7.0) == 7.004  # 500/s
    assert _paced(0.004, [0.005] * 10).wait_until(7.0) == 7.0  # 200/s


def test_the_pace_follows_the_stream_when_it_slows_down() -> None:
    pace = _paced(0.004, [0.001] * 10 + [0.02] * 5)
    assert not pace.busy


def test_no_wait_configured_means_never_busy() -> None:
    assert not _paced(0.0, [0.0001] * 10).busy


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=50), st.floats(min_value=0.0, max_value=0.1))
def test_the_wait_is_never_longer_than_configured(gaps: list[float], wait_s: float) -> None:
    delay = _paced(wait_s, gaps).wait_until(0.0)
    assert delay in (0.0, wait_s)
    if all(gap >= wait_s * 1.001 + 1e-9 for gap in gaps):  # clear of float rounding in the moving mean
        assert delay == 0.0
