"""Calendar arithmetic the policies need (recheck due dates, retention periods). No I/O."""

import calendar
from datetime import date


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February -> 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
