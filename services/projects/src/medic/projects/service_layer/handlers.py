"""Use cases of the projects service: each runs in one unit of work and stages its events in the outbox."""

from collections.abc import Sequence
from datetime import UTC, datetime

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.commands import RegisterPartner
from medic.projects.domain.events import PartnerRegistered
from medic.projects.domain.model import Partner, PartnerAlreadyRegistered
from medic.shared.contracts.projects import PartnerRegisteredV1
from medic.shared.events import Envelope


async def register_partner(command: RegisterPartner, uow: ProjectsUnitOfWork) -> Partner:
    async with uow:
        partner = Partner.register(
            name=command.name,
            kind=command.kind,
            contact_email=command.contact_email,
            areas_of_work=command.areas_of_work,
            now=datetime.now(UTC),
        )
        if await uow.partners.exists_named(partner.name_key):
            raise PartnerAlreadyRegistered(f"a partner named {partner.name!r} is already registered")
        await uow.partners.add(partner)
        for event in partner.events:
            if isinstance(event, PartnerRegistered):
                payload = PartnerRegisteredV1(
                    partner_id=partner.id,
                    name=partner.name,
                    kind=partner.kind,
                    areas_of_work=list(partner.areas_of_work),
                )
                await uow.publish(
                    Envelope.wrap(payload, subject=f"partners/{partner.id}", correlation_id=command.correlation_id)
                )
        await uow.commit()
    return partner


async def list_partners(uow: ProjectsUnitOfWork, *, limit: int, offset: int) -> Sequence[Partner]:
    async with uow:
        return await uow.partners.list(limit=limit, offset=offset)
