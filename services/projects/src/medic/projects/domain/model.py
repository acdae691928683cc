"""The projects service's domain model. Community partners live in `partners`; this module keeps the old names."""

from .partners import (
    MAX_AREAS_OF_WORK,
    InvalidPartner,
    Partner,
    PartnerAlreadyRegistered,
)

__all__ = ["MAX_AREAS_OF_WORK", "InvalidPartner", "Partner", "PartnerAlreadyRegistered"]
