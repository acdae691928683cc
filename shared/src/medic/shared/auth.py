"""Bearer JWT authentication and role checks.

Tokens are HS256 with a shared secret today; set `JWT_JWKS_URL` (and `JWT_ALGORITHM=RS256`) to verify
tokens from an identity provider instead. Every endpoint but health and docs depends on `require_roles`.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medic.shared.settings import ServiceSettings


class Role(StrEnum):
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    STUDENT = "student"
    PARTNER = "partner"
    OPS = "ops"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]


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
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(str(error)) from error
        return Principal(subject=str(claims["sub"]), roles=roles)

    async def verify_async(self, token: str) -> Principal:
        """`verify` off the event loop when it may fetch the provider's keys (a blocking HTTP call)."""
        if self._jwks is None:
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)


def issue_token(
    settings: ServiceSettings, *, roles: Iterable[Role], subject: str | None = None, ttl_s: int = 8 * 3600
) -> str:
    """A signed token for development and tests (HS256 with the configured secret)."""
    now = int(time.time())
    claims = {
        "sub": subject or f"dev-{uuid.uuid4().hex[:8]}",
        "roles": [Role(role).value for role in roles],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="A JWT; `medic token --role ROLE` prints one for development.")


def require_roles(*allowed: Role) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: 401 without a valid token, 403 when the token has none of `allowed`."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        verifier: TokenVerifier = request.app.state.token_verifier
        try:
            principal = await verifier.verify_async(credentials.credentials)
        except InvalidToken:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid or expired token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        if not principal.roles & set(allowed):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires one of the roles: {', '.join(sorted(allowed))}")
        return principal

    return dependency
