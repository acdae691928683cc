"""The widening-participation indicators outreach records: their names, their values, and where each came from.

Area indicators describe where a participant lives, not the participant: they are derived from the home
postcode through published lookup files, and each value keeps the dataset and edition it came from (IMD 2019
and IMD 2025 rank different areas). Individual indicators are answers about the participant, each kept with
its source (what the participant declared, what the school said, what someone verified).
Eligibility rules, reports and the research extract all speak this vocabulary.
"""

from enum import StrEnum


class AreaMeasure(StrEnum):
    """A value looked up for the area of a home postcode. Quintile 1 / decile 1 = least participation or most
    deprived."""

    POLAR4_QUINTILE = "polar4_quintile"
    TUNDRA_LSOA_QUINTILE = "tundra_lsoa_quintile"
    TUNDRA_MSOA_QUINTILE = "tundra_msoa_quintile"
    IMD_DECILE = "imd_decile"
    IMD_QUINTILE = "imd_quintile"
    IDACI_DECILE = "idaci_decile"


class IndividualMeasure(StrEnum):
    """An answer about the participant, as UCAS and HESA ask it."""

    FREE_SCHOOL_MEALS = "free_school_meals"  # ever-6; values: `YesNoUnknown`
    PARENTAL_EDUCATION = "parental_education"  # HESA PARED; values: `ParentalEducation`
    CARE_EXPERIENCE = "care_experience"  # HESA CARELEAVER; values: `CareExperience`
    YOUNG_CARER = "young_carer"  # values: `YesNoUnknown`
    ESTRANGED = "estranged"  # values: `YesNoUnknown`


class IndicatorSource(StrEnum):
    """Who gave an individual indicator's value."""

    SELF_DECLARED = "self_declared"
    SCHOOL = "school"
    VERIFIED = "verified"


class YesNoUnknown(StrEnum):
    YES = "yes"
    NO = "no"
    DONT_KNOW = "dont_know"


class ParentalEducation(StrEnum):
    """HESA PARED: does any parent (including step, adoptive or guardian) hold a higher-education qualification.
    `NO` means first in family."""

    YES = "01"
    NO = "02"
    NOT_KNOWN = "97"
    REFUSED = "98"
    NOT_AVAILABLE = "99"


class CareExperience(StrEnum):
    """HESA CARELEAVER categories."""

    STATUTORY_CARE_LEAVER = "statutory_care_leaver"
    CONFIRMED = "care_experienced_confirmed"
    SELF_DECLARED_UNCONFIRMED = "care_experienced_self_declared"
    NOT_CARE_EXPERIENCED = "not_care_experienced"
    REFUSED = "refused"
    NOT_AVAILABLE = "not_available"


INDIVIDUAL_VALUES: dict[IndividualMeasure, type[StrEnum]] = {
    IndividualMeasure.FREE_SCHOOL_MEALS: YesNoUnknown,
    IndividualMeasure.PARENTAL_EDUCATION: ParentalEducation,
    IndividualMeasure.CARE_EXPERIENCE: CareExperience,
    IndividualMeasure.YOUNG_CARER: YesNoUnknown,
    IndividualMeasure.ESTRANGED: YesNoUnknown,
}
