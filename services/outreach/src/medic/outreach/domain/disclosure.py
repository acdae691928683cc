"""Disclosure control: a named policy applied when a report is rendered. No I/O.

Exact counts are what is stored and computed; a policy only decides what a rendered report shows. Three policies:

- ``hesa`` (the default), after HESA's rounding and suppression methodology: counts rounded to the nearest 5
  (0, 1, 2 -> 0; 3-7 -> 5; 8-12 -> 10; halves up), percentages not shown ("..") when their denominator is fewer
  than 22.5 people (for whole people: 22 or fewer), averages not shown when based on 7 or fewer people.
- ``ofs``, after the Office for Students' data dashboards: headcounts rounded to the nearest 10 (0-4 -> 0, 5-14 -> 10,
  halves up), percentages and averages on low denominators (fewer than 23 people; averages on 7 or fewer) not shown
  and marked ``[low]``.
- ``none``: exact figures, for coordinators' internal operational views only (the coordinator running WATCCH already
  sees every application, so exact counts tell them nothing new); every rendering says it is not for publication.

Every policy also applies secondary suppression wherever a table shows totals: when a hidden value could be worked
out from a total and the values shown beside it, a second value (the next smallest) is hidden too. In a count table
(`render_counts`) that is checked exactly: no hidden entry is a linear consequence of the shown entries and the
table's row and column sums. In a line of rates or averages with an overall figure (`render_rates`), one hidden rate
beside shown rates and an overall rate is never left alone: the one with the next smallest denominator joins it.

Rounded counts are never exact below the rounding base (a rendered 0 stands for 0, 1 or 2 under ``hesa``), so the
named policies hide counts by rounding, not by suppression; `suppress_counts_below` exists for policies that show
exact counts but hide small ones (and for the tests of the table algorithm).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

Rendered = int | float | str  # a number shown, or the policy's mark for a hidden one


class PolicyName(StrEnum):
    HESA = "hesa"
    OFS = "ofs"
    NONE = "none"


class InvalidFigure(ValueError):
    """A figure no policy can render (a negative count, a numerator above its denominator)."""


@dataclass(frozen=True)
class DisclosurePolicy:
    name: PolicyName
    title: str
    count_base: int  # counts are rounded to the nearest multiple of this (1: exact), halves up
    percentage_min_denominator: Decimal  # percentages on fewer people than this are hidden
    average_max_hidden: int  # averages over this many people or fewer are hidden
    mark: str  # shown in place of a hidden percentage, average or count
    percentage_decimals: int = 0
    average_decimals: int = 1
    suppress_counts_below: int = 0  # counts 1 .. this - 1 hidden (0: none hidden; rounding protects them)
    for_publication: bool = True
    rules: tuple[str, ...] = field(default=())

    def count(self, exact: int) -> int:
        """The count rounded to the nearest multiple of the base, halves up. Idempotent and monotone."""
        if exact < 0:
            raise InvalidFigure("a count is never negative")
        quotient, remainder = divmod(exact, self.count_base)
        return (quotient + (1 if 2 * remainder >= self.count_base else 0)) * self.count_base

    def count_hidden(self, exact: int) -> bool:
        return 0 < exact < self.suppress_counts_below

    def render_count(self, exact: int) -> Rendered:
        return self.mark if self.count_hidden(exact) else self.count(exact)

    def percentage_hidden(self, denominator: int) -> bool:
        return denominator == 0 or Decimal(denominator) < self.percentage_min_denominator

    def percentage(self, numerator: int, denominator: int, *, people: int | None = None) -> Rendered:
        """100 * numerator / denominator from the exact figures, or the mark on a low denominator. When the
        denominator counts something other than people (attendances), `people` is the number of distinct people
        behind it, and the threshold applies to them."""
        if numerator < 0 or denominator < 0 or numerator > denominator:
            raise InvalidFigure("a percentage's numerator is between 0 and its denominator")
        if people is not None and not 0 <= people <= denominator:
            raise InvalidFigure("the people behind a percentage are between 0 and its denominator")
        if denominator == 0 or self.percentage_hidden(denominator if people is None else people):
            return self.mark
        value = Decimal(100 * numerator) / Decimal(denominator)
        return float(value.quantize(Decimal(1).scaleb(-self.percentage_decimals), rounding=ROUND_HALF_UP))

    def average_hidden(self, people: int) -> bool:
        return people <= self.average_max_hidden or people == 0

    def average(self, total: Decimal | int, people: int) -> Rendered:
        """The mean over `people` from the exact total, or the mark when based on too few."""
        if people < 0:
            raise InvalidFigure("a number of people is never negative")
        if self.average_hidden(people):
            return self.mark
        return self.mean(Decimal(total) / Decimal(people), people)

    def mean(self, value: Decimal | None, people: int) -> Rendered:
        """A mean (or a difference of means) computed elsewhere from exact figures over `people`."""
        if value is None or self.average_hidden(people):
            return self.mark
        return float(value.quantize(Decimal(1).scaleb(-self.average_decimals), rounding=ROUND_HALF_UP))

    def describe(self) -> dict[str, object]:
        """What every rendered output carries: the policy's name, title and rules."""
        return {
            "name": self.name.value,
            "title": self.title,
            "rules": list(self.rules),
            "mark": self.mark,
            "for_publication": self.for_publication,
        }


HESA = DisclosurePolicy(
    name=PolicyName.HESA,
    title="HESA rounding and suppression",
    count_base=5,
    percentage_min_denominator=Decimal("22.5"),
    average_max_hidden=7,
    mark="..",
    rules=(
        "Counts are rounded to the nearest multiple of 5: 0, 1 and 2 are shown as 0, halves are rounded up.",
        "Totals are rounded on their own, so rounded figures need not add up.",
        "Percentages are computed from exact figures and not shown ('..') when based on fewer than 22.5 people.",
        "Averages are computed from exact figures and not shown ('..') when based on 7 or fewer people.",
        "Where a hidden figure could be worked out from a total and the figures beside it, the next smallest is "
        "hidden too.",
    ),
)

OFS = DisclosurePolicy(
    name=PolicyName.OFS,
    title="Office for Students style",
    count_base=10,
    percentage_min_denominator=Decimal(23),
    average_max_hidden=7,
    mark="[low]",
    rules=(
        "Headcounts are rounded to the nearest multiple of 10: 0 to 4 are shown as 0, halves are rounded up.",
        "Totals are rounded on their own, so rounded figures need not add up.",
        "Percentages based on fewer than 23 people (a low denominator) are not shown and are marked '[low]'.",
        "Averages based on 7 or fewer people are not shown and are marked '[low]'.",
        "Where a hidden figure could be worked out from a total and the figures beside it, the next smallest is "
        "hidden too.",
    ),
)

NONE = DisclosurePolicy(
    name=PolicyName.NONE,
    title="Exact figures: internal operational view, not for publication",
    count_base=1,
    percentage_min_denominator=Decimal(1),
    average_max_hidden=0,
    mark="..",
    percentage_decimals=1,
    for_publication=False,
    rules=(
        "Exact counts, percentages and averages: for the programme's coordinators only.",
        "Not for publication or for sharing outside the programme team; use 'hesa' or 'ofs' for that.",
        "A percentage or average over no people is shown as '..'.",
    ),
)

POLICIES: dict[PolicyName, DisclosurePolicy] = {p.name: p for p in (HESA, OFS, NONE)}
DEFAULT = HESA


# --- count tables with totals ------------------------------------------------------------------------------------

Position = tuple[int, int]  # (row, column); row == rows and column == columns are the totals


@dataclass(frozen=True)
class CountTable:
    """Exact counts by row and column. Column totals are shown when the rows are exclusive categories (each person
    in one row), row totals when the columns are; the grand total when both are. Totals are the sums."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]
    row_totals: bool = True
    column_totals: bool = True

    def __post_init__(self) -> None:
        if len(self.cells) != len(self.rows) or any(len(r) != len(self.columns) for r in self.cells):
            raise InvalidFigure("a table has one cell per row and column")
        if any(c < 0 for r in self.cells for c in r):
            raise InvalidFigure("a count is never negative")

    def entry(self, position: Position) -> int:
        """A cell, a row or column total, or (at (rows, columns)) the grand total."""
        row, column = position
        rows, columns = len(self.rows), len(self.columns)
        if row < rows and column < columns:
            return self.cells[row][column]
        if row < rows:
            return sum(self.cells[row])
        if column < columns:
            return sum(r[column] for r in self.cells)
        return sum(sum(r) for r in self.cells)

    def positions(self) -> list[Position]:
        """The entries shown: cells, and the totals the table has."""
        last_row = len(self.rows) + (1 if self.column_totals else 0)
        last_column = len(self.columns) + (1 if self.row_totals else 0)
        return [(r, c) for r in range(last_row) for c in range(last_column)]

    def lines(self) -> list[list[Position]]:
        """Each row and each column that has a total, with its total last: its cells add up to its last entry."""
        rows, columns = len(self.rows), len(self.columns)
        found: list[list[Position]] = []
        if self.row_totals:
            found += [[(r, c) for c in range(columns + 1)] for r in range(rows + (1 if self.column_totals else 0))]
        if self.column_totals:
            found += [[(r, c) for r in range(rows + 1)] for c in range(columns + (1 if self.row_totals else 0))]
        return found


@dataclass(frozen=True)
class RenderedTable:
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[Rendered, ...], ...]
    row_totals: tuple[Rendered, ...]  # empty when the table has none
    column_totals: tuple[Rendered, ...]  # empty when the table has none
    total: Rendered | None  # None unless the table has both
    hidden: frozenset[Position]  # primary and secondary, totals included


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [row[:] for row in matrix]
    rank, width = 0, len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][column] != 0:
                factor = rows[i][column] / rows[rank][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def determined(table: CountTable, hidden: Iterable[Position]) -> list[Position]:
    """The hidden entries that the shown entries and the table's sums pin down (over the reals).

    Each line says: its cells minus its total = 0. With the shown entries known, a hidden entry is determined
    exactly when its column of the hidden entries' coefficient matrix is independent of the others', i.e. removing
    it lowers the rank.
    """
    unknown = sorted(hidden)
    if not unknown:
        return []
    index = {p: i for i, p in enumerate(unknown)}
    matrix: list[list[Fraction]] = []
    for line in table.lines():
        row = [Fraction(0)] * len(unknown)
        for position in line[:-1]:
            if position in index:
                row[index[position]] += 1
        if line[-1] in index:
            row[index[line[-1]]] -= 1
        if any(row):
            matrix.append(row)
    if not matrix:
        return []
    full = _rank(matrix)
    return [p for i, p in enumerate(unknown) if _rank([r[:i] + r[i + 1 :] for r in matrix]) < full]


def _complement(table: CountTable, lines: Sequence[list[Position]], hidden: set[Position]) -> Position | None:
    """The next smallest shown cell of these lines: non-zero cells first (a hidden 0 beside a hidden small count
    can pin it down through non-negativity), then zero cells, then the lines' totals."""
    cells = {p for line in lines for p in line[:-1] if p not in hidden}
    totals = {line[-1] for line in lines if line[-1] not in hidden}
    for group in (
        [p for p in cells if table.entry(p) > 0],
        [p for p in cells if table.entry(p) == 0],
        sorted(totals),
    ):
        if group:
            return min(group, key=lambda p: (table.entry(p), p))
    return None


def protect(table: CountTable, primary: Iterable[Position]) -> frozenset[Position]:
    """The primary hidden entries and more, chosen smallest first, so that none can be worked out.

    First the line rule: a row or column with one hidden entry gives it away, so the next smallest shown cell of
    that line is hidden too. When every line has none or several, the exact check (`determined`) may still find an
    entry pinned down across lines (a bridge between two blocks); the next smallest cell beside it is hidden, and
    so on until nothing hidden can be worked out.
    """
    hidden = set(primary)
    lines = table.lines()
    while True:
        lone = next((line for line in lines if sum(p in hidden for p in line) == 1), None)
        if lone is not None:
            choice = _complement(table, [lone], hidden)
        else:
            found = determined(table, hidden)
            if not found:
                return frozenset(hidden)
            beside = sorted((line for line in lines if found[0] in line), key=lambda ln: sum(p in hidden for p in ln))
            choice = _complement(table, beside[:1], hidden) or _complement(table, beside, hidden)
        if choice is None:  # its lines are hidden already: hide the smallest entry left anywhere
            left = [p for p in table.positions() if p not in hidden]
            choice = min(left, key=lambda p: (table.entry(p), p))
        hidden.add(choice)


def render_counts(table: CountTable, policy: DisclosurePolicy) -> RenderedTable:
    rows, columns = len(table.rows), len(table.columns)
    primary = [p for p in table.positions() if policy.count_hidden(table.entry(p))]
    hidden = protect(table, primary)

    def shown(position: Position) -> Rendered:
        return policy.mark if position in hidden else policy.count(table.entry(position))

    return RenderedTable(
        rows=table.rows,
        columns=table.columns,
        cells=tuple(tuple(shown((r, c)) for c in range(columns)) for r in range(rows)),
        row_totals=tuple(shown((r, columns)) for r in range(rows)) if table.row_totals else (),
        column_totals=tuple(shown((rows, c)) for c in range(columns)) if table.column_totals else (),
        total=shown((rows, columns)) if table.row_totals and table.column_totals else None,
        hidden=hidden,
    )


# --- rates and averages beside an overall figure ---------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A percentage of a group: `numerator` of `denominator` people (e.g. enrolled of those offered). When the
    denominator counts something else (attendances: one person may hold several), `people` is the number of
    distinct people behind it, and the thresholds apply to them, not to the denominator."""

    label: str
    numerator: int
    denominator: int
    people: int | None = None  # None: the denominator counts people

    @property
    def headcount(self) -> int:
        """The people the percentage is based on, for the thresholds."""
        return self.denominator if self.people is None else self.people


@dataclass(frozen=True)
class RenderedRate:
    label: str
    numerator: Rendered
    denominator: Rendered
    percentage: Rendered


def hidden_rates(rates: Sequence[Rate], policy: DisclosurePolicy, *, with_overall: bool) -> frozenset[int]:
    """Which groups' percentages are hidden: those on low denominators and, beside an overall percentage, the
    next smallest group when only one would be hidden (the overall rate and the others would give it away)."""
    hidden = {i for i, r in enumerate(rates) if r.denominator == 0 or policy.percentage_hidden(r.headcount)}
    telling = [i for i in hidden if rates[i].denominator > 0]  # a rate of nobody (0 of 0) gives nothing away
    shown = [i for i in range(len(rates)) if i not in hidden]
    if with_overall and len(telling) == 1 and shown:
        hidden.add(min(shown, key=lambda i: (rates[i].headcount, rates[i].denominator, i)))
    return frozenset(hidden)


def render_rates(
    rates: Sequence[Rate],
    policy: DisclosurePolicy,
    *,
    overall_label: str | None = "All",
    overall_people: int | None = None,
) -> list[RenderedRate]:
    """Each group's percentage under the policy and, unless `overall_label` is None, the overall one from the
    exact sums (assumes the groups' denominators do not overlap). Counts are rounded like any count. When the rates
    count something other than people (`Rate.people` given), the overall rate needs `overall_people`, the distinct
    people behind all of them (one person may be behind several groups' rates)."""
    for rate in rates:
        if rate.numerator < 0 or rate.numerator > rate.denominator:
            raise InvalidFigure("a percentage's numerator is between 0 and its denominator")
        if rate.people is not None and not 0 <= rate.people <= rate.denominator:
            raise InvalidFigure("the people behind a percentage are between 0 and its denominator")
    if overall_label is not None and overall_people is None and any(r.people is not None for r in rates):
        raise InvalidFigure("an overall rate of something other than people needs the distinct people behind it")
    hidden = hidden_rates(rates, policy, with_overall=overall_label is not None)
    out = [
        RenderedRate(
            label=r.label,
            numerator=policy.count(r.numerator),
            denominator=policy.count(r.denominator),
            percentage=policy.mark if i in hidden else policy.percentage(r.numerator, r.denominator, people=r.people),
        )
        for i, r in enumerate(rates)
    ]
    if overall_label is not None:
        numerator, denominator = sum(r.numerator for r in rates), sum(r.denominator for r in rates)
        out.append(
            RenderedRate(
                label=overall_label,
                numerator=policy.count(numerator),
                denominator=policy.count(denominator),
                percentage=policy.percentage(numerator, denominator, people=overall_people),
            )
        )
    return out
