"""Disclosure control as properties: rounding, suppression, and secondary suppression in tables with totals."""

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.outreach.domain.disclosure import (
    HESA,
    NONE,
    OFS,
    POLICIES,
    CountTable,
    DisclosurePolicy,
    InvalidFigure,
    PolicyName,
    Position,
    Rate,
    render_counts,
    render_rates,
)

NAMED = list(POLICIES.values())
# A policy that shows exact counts but hides small ones: the case secondary suppression in count tables is for.
SMALL_CELLS = replace(NONE, suppress_counts_below=5, for_publication=True)

policies = st.sampled_from(NAMED)
counts = st.integers(min_value=0, max_value=10_000)


@given(policies, counts)
def test_rounding_is_idempotent_and_close(policy: DisclosurePolicy, n: int) -> None:
    rounded = policy.count(n)
    assert policy.count(rounded) == rounded
    assert rounded % policy.count_base == 0
    assert 2 * abs(rounded - n) <= policy.count_base


@given(policies, counts, counts)
def test_rounding_is_monotone(policy: DisclosurePolicy, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert policy.count(low) <= policy.count(high)


@given(st.sampled_from([HESA, OFS]), st.integers(min_value=0, max_value=100))
def test_no_rendered_count_below_the_base_is_exact(policy: DisclosurePolicy, n: int) -> None:
    rendered = policy.count(n)
    if 0 < n < policy.count_base:
        assert rendered != n
    if rendered < policy.count_base:  # a small rendered figure (0) stands for several exact ones
        assert len({m for m in range(policy.count_base * 2) if policy.count(m) == rendered}) >= 2


def test_hesa_rounding_table() -> None:
    assert [HESA.count(n) for n in range(14)] == [0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10, 10, 10, 15]


def test_ofs_rounding_table() -> None:
    assert [OFS.count(n) for n in (0, 4, 5, 14, 15, 24, 25)] == [0, 0, 10, 10, 20, 20, 30]


def test_hesa_percentages_on_fewer_than_22_5_people_are_hidden() -> None:
    assert HESA.percentage(5, 22) == ".."
    assert HESA.percentage(5, 23) == pytest.approx(22.0)
    assert HESA.percentage(0, 0) == ".."
    assert OFS.percentage(5, 22) == "[low]"
    assert NONE.percentage(1, 3) == pytest.approx(33.3)


def test_hesa_averages_on_seven_or_fewer_are_hidden() -> None:
    assert HESA.average(70, 7) == ".."
    assert HESA.average(80, 8) == pytest.approx(10.0)
    assert HESA.average(Decimal("10.5"), 8) == pytest.approx(1.3)
    assert NONE.average(3, 1) == pytest.approx(3.0)


def test_bad_figures_are_refused() -> None:
    with pytest.raises(InvalidFigure):
        HESA.count(-1)
    with pytest.raises(InvalidFigure):
        HESA.percentage(30, 25)
    with pytest.raises(InvalidFigure):
        CountTable(("a",), ("x", "y"), ((1,),))


def test_every_policy_names_itself_and_its_rules() -> None:
    for name, policy in POLICIES.items():
        described = policy.describe()
        assert described["name"] == name.value and described["rules"]
    assert POLICIES[PolicyName.NONE].describe()["for_publication"] is False


# --- secondary suppression --------------------------------------------------------------------------------------


def _derivable(table: CountTable, hidden: frozenset[Position]) -> set[Position]:
    """Independently of the module: reduce the hidden entries' equations to row echelon form; a hidden entry is
    pinned down when its pivot row has no free variable in it."""
    unknown = sorted(hidden)
    index = {p: i for i, p in enumerate(unknown)}
    rows, columns = len(table.rows), len(table.columns)
    both = table.row_totals and table.column_totals
    lines = [[(r, c) for c in range(columns + 1)] for r in range(rows + both)] if table.row_totals else []
    lines += [[(r, c) for r in range(rows + 1)] for c in range(columns + both)] if table.column_totals else []
    matrix = []
    for line in lines:
        equation = [Fraction(0)] * len(unknown)
        for p in line[:-1]:
            if p in index:
                equation[index[p]] += 1
        if line[-1] in index:
            equation[index[line[-1]]] -= 1
        matrix.append(equation)
    pivots: list[int] = []
    rank = 0
    for col in range(len(unknown)):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        lead = matrix[rank][col]
        matrix[rank] = [x / lead for x in matrix[rank]]
        for i in range(len(matrix)):
            if i != rank and matrix[i][col] != 0:
                f = matrix[i][col]
                matrix[i] = [a - f * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        pivots.append(col)
        rank += 1
    free = set(range(len(unknown))) - set(pivots)
    return {unknown[col] for r, col in enumerate(pivots) if not any(matrix[r][f] != 0 for f in free)}


@st.composite
def tables(draw: st.DrawFn) -> CountTable:
    rows = draw(st.integers(min_value=1, max_value=4))
    columns = draw(st.integers(min_value=1, max_value=4))
    cell = st.one_of(st.integers(min_value=0, max_value=6), st.integers(min_value=0, max_value=60))
    cells = tuple(tuple(draw(cell) for _ in range(columns)) for _ in range(rows))
    margins = draw(st.sampled_from([(True, True), (True, False), (False, True)]))
    return CountTable(tuple(f"r{i}" for i in range(rows)), tuple(f"c{j}" for j in range(columns)), cells, *margins)


@settings(max_examples=300, deadline=None)
@given(tables(), st.integers(min_value=2, max_value=8))
def test_a_hidden_entry_can_never_be_worked_out_from_the_totals(table: CountTable, threshold: int) -> None:
    policy = replace(SMALL_CELLS, suppress_counts_below=threshold)
    rendered = render_counts(table, policy)
    primary = {p for p in table.positions() if 0 < table.entry(p) < threshold}
    assert primary <= rendered.hidden
    assert not _derivable(table, rendered.hidden)
    shown = [*rendered.cells, rendered.row_totals, rendered.column_totals, (rendered.total,)]
    # shown figures are exact under this policy, and never a small count
    for value in (v for line in shown for v in line if v is not None):
        assert value == policy.mark or not (0 < int(value) < threshold)
    for r, row in enumerate(rendered.cells):
        for c, value in enumerate(row):
            assert (value == policy.mark) == ((r, c) in rendered.hidden)
            if value != policy.mark:
                assert value == table.cells[r][c]


@settings(max_examples=200, deadline=None)
@given(tables())
def test_hesa_tables_round_every_entry_and_hide_none(table: CountTable) -> None:
    rendered = render_counts(table, HESA)
    assert not rendered.hidden
    values = [v for row in rendered.cells for v in row] + [*rendered.row_totals, *rendered.column_totals]
    assert all(isinstance(v, int) and v % 5 == 0 for v in values)


def test_one_small_cell_in_a_row_takes_the_next_smallest_with_it() -> None:
    table = CountTable(("a", "b"), ("x", "y", "z"), ((2, 9, 30), (12, 15, 40)))
    rendered = render_counts(table, SMALL_CELLS)
    # (0, 0) is small; (0, 1) is the next smallest in its row and (1, 0) in its column; (1, 1) closes the cycle
    assert rendered.hidden == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert rendered.cells[0][2] == 30 and rendered.row_totals == (41, 67)


def test_a_single_row_table_hides_column_totals_that_equal_hidden_cells() -> None:
    table = CountTable(("only",), ("x", "y", "z"), ((3, 10, 20),))
    rendered = render_counts(table, SMALL_CELLS)
    assert not _derivable(table, rendered.hidden)
    assert rendered.column_totals[0] == SMALL_CELLS.mark


rates = st.lists(
    st.integers(min_value=0, max_value=80).flatmap(
        lambda d: st.tuples(st.integers(min_value=0, max_value=d), st.just(d))
    ),
    min_size=1,
    max_size=6,
)


@given(rates, policies)
def test_a_hidden_rate_is_never_alone_beside_an_overall_rate(
    pairs: list[tuple[int, int]], policy: DisclosurePolicy
) -> None:
    lines = [Rate(f"g{i}", n, d) for i, (n, d) in enumerate(pairs)]
    rendered = render_rates(lines, policy)
    groups, overall = rendered[:-1], rendered[-1]
    hidden = [
        shown for line, shown in zip(lines, groups, strict=True) if shown.percentage == policy.mark and line.denominator
    ]
    if overall.percentage != policy.mark and len(groups) > 1:
        assert len(hidden) != 1  # a hidden rate of somebody never stands alone beside the overall rate
    for line, shown in zip(lines, groups, strict=True):
        if policy.percentage_hidden(line.denominator):
            assert shown.percentage == policy.mark
        assert shown.numerator == policy.count(line.numerator)


def test_a_rate_of_nobody_takes_no_other_rate_with_it() -> None:
    rendered = render_rates([Rate("none", 0, 0), Rate("some", 3, 40), Rate("more", 9, 50)], HESA)
    assert [r.percentage for r in rendered] == ["..", 8.0, 18.0, 13.0]


def test_rates_secondary_hides_the_next_smallest_denominator() -> None:
    lines = [Rate("q1", 5, 10), Rate("q2", 20, 30), Rate("q3", 30, 60)]
    rendered = render_rates(lines, HESA)
    assert [r.percentage for r in rendered] == ["..", "..", 50.0, 55.0]


def test_a_rate_over_attendances_is_judged_by_the_people_behind_it() -> None:
    assert HESA.percentage(23, 24, people=3) == ".."
    assert HESA.percentage(23, 24) == 96.0  # the same figures, if they were 24 people
    assert HESA.percentage(23, 30, people=23) == 77.0
    lines = [Rate("workshop", 23, 24, people=3), Rate("talk", 30, 40, people=40)]
    rendered = render_rates(lines, HESA, overall_people=41)
    # the workshop rate is hidden on 3 people; the talk rate joins it, since the overall rate would give it away
    assert [r.percentage for r in rendered] == ["..", "..", 83.0]
    assert [r.percentage for r in render_rates(lines, HESA, overall_people=20)] == ["..", "..", ".."]
    with pytest.raises(InvalidFigure):
        render_rates(lines, HESA)  # an overall rate over attendances needs its distinct people
    with pytest.raises(InvalidFigure):
        HESA.percentage(3, 4, people=5)
