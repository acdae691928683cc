"""The programme's policy settings that use cases of several areas need, carried by the unit of work.

The composition root builds them from the settings; a use case reads `uow.policies`, so a guard called from another
area's transaction (mentoring's, inside a consent withdrawal) judges by the same policy without being told it.
"""

from dataclasses import dataclass, field

from .consent import ConsentPolicy


@dataclass(frozen=True)
class MentoringPolicy:
    """The kind of contact mentoring is (`OUTREACH_MENTORING_CONTACT_KIND`)."""

    contact: str = "unsupervised_or_regular"


@dataclass(frozen=True)
class Policies:
    consent: ConsentPolicy = field(default_factory=ConsentPolicy)
    mentoring: MentoringPolicy = field(default_factory=MentoringPolicy)
    zone: str = "Europe/London"  # where the programmes run: "today", and the end of an as-of day
