"""Conditions an action needs (a cleared mentor, valid consents), and the refusal that lists every one unmet.

The workflow is the guard: matching, mentoring sessions and primary-school deliveries are refused (409) unless every
condition holds on the day, and the refusal names each unmet condition, not just the first.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Unmet:
    """One condition not met: `code` for programs (e.g. `dbs_level`), `message` for people, `subject` whose it is
    (a person id, a participant's pseudonymous id, or a role such as `mentor`). Never personal data."""

    code: str
    message: str
    subject: str | None = None


class ConditionsUnmet(Exception):
    """An action refused because of `unmet` (never empty); the HTTP layer answers 409 listing them."""

    def __init__(self, action: str, unmet: Sequence[Unmet]) -> None:
        if not unmet:
            raise ValueError("a refusal names at least one unmet condition")
        super().__init__(f"cannot {action}: " + "; ".join(u.message for u in unmet))
        self.action = action
        self.unmet = tuple(unmet)
