"""Partner verification: issuing a project's link, and what the partner contact sees and decides through it.

The token and the link's life (expiry, resend interval, replaced, decides once) follow medic.shared.signed_links;
the token alone identifies the link, which names one project and one contact.
"""

import uuid
from datetime import UTC, datetime

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.lifecycle import Actor
from medic.projects.domain.project import Project
from medic.projects.domain.verification import Decision, VerificationLink, VerificationStatus
from medic.shared.contracts.projects.contacts import VerificationMailRequestedV1
from medic.shared.contracts.projects.projects import ProjectVerificationLinkIssuedV1
from medic.shared.events import Envelope
from medic.shared.signed_links import LinkPolicy, LinkRefused, hash_token

from .project_handlers import Caller, ProjectNotFound, project_facts, publish_project_events, visible_project


class NothingToVerify(Exception):
    """The project has no pending verification, or no one to send the link to: a 409."""


class LinkNotFound(Exception):
    pass


async def issue_link(
    caller: Caller, uow: ProjectsUnitOfWork, project_id: uuid.UUID, policy: LinkPolicy, *, link_base_url: str
) -> tuple[str, VerificationLink]:
    """A new link for the lead partner's primary contact; the earlier ones stop working. Returns (url, link): the
    url (`link_base_url` + token) is emailed to the contact through notifications, and shown to the issuer once.
    The token is never stored or logged: only its hash is kept."""
    async with uow:
        project, actor = await visible_project(caller, uow, project_id)
        if actor is Actor.PARTNER:
            raise ProjectNotFound(project_id)  # partners answer links; they do not send them
        if project.verification is not VerificationStatus.PENDING:
            status = project.verification.value if project.verification else "not requested"
            raise NothingToVerify(f"nothing to verify: the project is {project.state.value}, verification {status}")
        partner_id = project.partner_ids[0]
        contact_id = await uow.verifications.primary_contact_of(partner_id)
        if contact_id is None:
            raise NothingToVerify("the lead partner has no primary contact to send the link to")
        token, link = VerificationLink.issue(
            policy,
            now=datetime.now(UTC),
            last_issued_at=await uow.verifications.last_undecided_issued_at(project.id),
            id=uuid.uuid4(),
            project_id=project.id,
            partner_id=partner_id,
            contact_id=contact_id,
        )
        await uow.verifications.add(link)
        payload = ProjectVerificationLinkIssuedV1(
            **project_facts(project),
            verification_id=link.id,
            partner_id=partner_id,
            contact_id=contact_id,
            expires_at=link.expires_at,
        )
        subject = f"projects/{project.id}"
        await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=caller.correlation_id))
        url = link_base_url + token
        mail = VerificationMailRequestedV1(
            verification_id=link.id,
            project_id=project.id,
            partner_id=partner_id,
            contact_id=contact_id,
            link=url,
            expires_at=link.expires_at,
        )
        await uow.publish(Envelope.wrap(mail, subject=subject, correlation_id=caller.correlation_id))
        await uow.commit()
    return url, link


async def open_link(uow: ProjectsUnitOfWork, token: str) -> tuple[VerificationLink, Project]:
    """The link and its project, for the partner-safe summary; LinkRefused (gone) once replaced or expired."""
    async with uow:
        link, project = await _link_and_project(uow, token)
    link.check_viewable(datetime.now(UTC))  # a decided link still shows its answer, until replaced
    return link, project


async def decide(
    uow: ProjectsUnitOfWork, token: str, decision: Decision, comment: str, correlation_id: uuid.UUID
) -> tuple[VerificationLink, Project]:
    async with uow:
        link, project = await _link_and_project(uow, token)
        now = datetime.now(UTC)
        link.answer(decision, comment, now)
        if not await uow.verifications.save_decision(link):
            raise LinkRefused("this link has been used", gone=False)  # a second click at the same moment
        read_version = project.version
        project.record_verification(decision, link.id, now)
        await uow.projects.save(project, read_version=read_version)
        await publish_project_events(uow, project, correlation_id)
        await uow.commit()
    return link, project


async def _link_and_project(uow: ProjectsUnitOfWork, token: str) -> tuple[VerificationLink, Project]:
    link = await uow.verifications.by_token_hash(hash_token(token))
    project = await uow.projects.get(link.project_id) if link else None
    if link is None or project is None:
        raise LinkNotFound
    return link, project
