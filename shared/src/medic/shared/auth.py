"""Bearer JWT authentication and role checks.

Tokens are HS256 with a shared secret today; set `JWT_JWKS_URL` (and `JWT_ALGORITHM=RS256`) to verify
tokens from an identity provider instead. Every endpoint but health and docs depends on `require_roles`; the
HTTP edge (`medic.shared.http_edge`) finds that dependency on the route and runs it before the body is read.
"""

import asyncio
import time
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from medic.shared.settings import ServiceSettings


class Role(StrEnum):
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    STUDENT = "student"
    PARTNER = "partner"
    OPS = "ops"


# The claim naming a partner user's organisation: the projects service's partner id.
ORGANISATION_CLAIM = "org"


@dataclass(frozen=True)
class Principal:
    """Who is calling: `subject` is the user's id (the token's `sub`), the id their records are linked by."""

    subject: str
    roles: frozenset[Role]
    organisation_id: uuid.UUID | None = None  # for partner users: the partner organisation they act for

    def has(self, role: Role) -> bool:
        return role in self.roles


class InvalidToken(Exception):
    pass


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._secret = settings.jwt_secret.get_secret_value()
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            key: Any = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._secret
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
            roles = frozenset(Role(role) for role in claims.get("roles", []))
            organisation = claims.get(ORGANISATION_CLAIM)
            organisation_id = uuid.UUID(str(organisation)) if organisation is not None else None
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(str(error)) from error
        if Role.PARTNER in roles and organisation_id is None:
            raise InvalidToken(f"a partner user's token names its organisation in the `{ORGANISATION_CLAIM}` claim")
        return Principal(subject=str(claims["sub"]), roles=roles, organisation_id=organisation_id)

    async def verify_async(self, token: str) -> Principal:
        """`verify` off the event loop when it may fetch the provider's keys (a blocking HTTP call)."""
        if self._jwks is None:
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)


def issue_token(
    settings: ServiceSettings,
    *,
    roles: Collection[Role],
    subject: str | None = None,
    organisation_id: uuid.UUID | None = None,
    ttl_s: int = 8 * 3600,
) -> str:
    """A signed token for development and tests (HS256 with the configured secret)."""
    if Role.PARTNER in roles and organisation_id is None:
        raise ValueError("a partner user's token names its organisation: pass organisation_id")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject or f"dev-{uuid.uuid4().hex[:8]}",
        "roles": [Role(role).value for role in roles],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
    }
    if organisation_id is not None:
        claims[ORGANISATION_CLAIM] = str(organisation_id)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="A JWT; `medic token --role ROLE` prints one for development.")

# Where the verified principal is kept for the rest of the request, so the token is verified once.
PRINCIPAL_SCOPE_KEY = "medic.principal"


class RoleRequirement:
    """A FastAPI dependency: the caller, after 401 without a valid token and 403 without one of `allowed`."""

    def __init__(self, allowed: Iterable[Role]) -> None:
        self.allowed = frozenset(allowed)

    async def __call__(
        self,
        request: Request,
        # Declared so the OpenAPI document names the bearer scheme; `authorise` reads the same header.
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        return await self.authorise(request)

    async def authorise(self, connection: HTTPConnection) -> Principal:
        """The caller, or HTTPException 401/403. Needs nothing but the request head."""
        principal = connection.scope.get(PRINCIPAL_SCOPE_KEY)
        if not isinstance(principal, Principal):
            principal = await _authenticate(connection)
            connection.scope[PRINCIPAL_SCOPE_KEY] = principal
        if not principal.roles & self.allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"requires one of the roles: {', '.join(sorted(self.allowed))}"
            )
        return principal


async def _authenticate(connection: HTTPConnection) -> Principal:
    credentials = await _bearer(connection)
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    verifier: TokenVerifier = connection.app.state.token_verifier
    try:
        return await verifier.verify_async(credentials.credentials)
    except InvalidToken:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or expired token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


def require_roles(*allowed: Role) -> RoleRequirement:
    """`Depends(require_roles(Role.X, ...))`: 401 without a valid token, 403 when it has none of `allowed`."""
    return RoleRequirement(allowed)


def role_requirements(dependant: Dependant) -> list[RoleRequirement]:
    """Every `require_roles` among a route's dependencies, at any depth: the caller must meet them all."""
    found: list[RoleRequirement] = []
    pending = [dependant]
    while pending:
        current = pending.pop()
        if isinstance(current.call, RoleRequirement):
            found.append(current.call)
        pending.extend(current.dependencies)
    return found
