"""Use cases of the outreach service."""

from collections.abc import Sequence
from typing import cast

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.model import KnownPartner
from medic.shared.contracts.projects import PartnerRegisteredV1
from medic.shared.events import RawEnvelope
from medic.shared.uow import UnitOfWork


async def record_registered_partner(event: PartnerRegisteredV1, envelope: RawEnvelope, uow: UnitOfWork) -> None:
    """Runs inside the consumer's unit of work; the consumer commits it with the inbox row."""
    await cast(OutreachUnitOfWork, uow).partners.upsert(
        KnownPartner(
            id=event.partner_id,
            name=event.name,
            kind=event.kind,
            areas_of_work=tuple(event.areas_of_work),
            registered_at=envelope.time,
        )
    )


async def list_partners(uow: OutreachUnitOfWork, *, limit: int, offset: int) -> Sequence[KnownPartner]:
    async with uow:
        return await uow.partners.list(limit=limit, offset=offset)
