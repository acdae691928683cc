"""Bearer JWTs: issue and verify, every way a token can be wrong, and `require_roles` on a tiny app."""

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from medic.shared.auth import InvalidToken, Principal, Role, TokenVerifier, issue_token, require_roles
from medic.shared.settings import ServiceSettings

ORG = uuid.UUID("5d0c3f5e-8f3a-4c59-9c1e-0d6f1b2a3c4d")

SECRET = "unit-test-secret-that-is-long-enough-for-hs256-and-for-hs512-too!"


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings().model_copy(
        update={
            "jwt_secret": SecretStr(SECRET),
            "jwt_algorithm": "HS256",
            "jwt_jwks_url": None,
            "jwt_issuer": "medic-test",
            "jwt_audience": "medic",
        }
    )


@pytest.fixture
def verifier(settings: ServiceSettings) -> TokenVerifier:
    return TokenVerifier(settings)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "u-1", "roles": ["ops"], "iss": "medic-test", "aud": "medic", "iat": now, "exp": now + 60}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_issue_and_verify_round_trip(settings: ServiceSettings, verifier: TokenVerifier) -> None:
    token = issue_token(settings, roles=[Role.COORDINATOR, "student"], subject="user-42")  # type: ignore[list-item]

    principal = verifier.verify(token)

    assert principal == Principal(subject="user-42", roles=frozenset({Role.COORDINATOR, Role.STUDENT}))


def test_issued_token_claims(settings: ServiceSettings) -> None:
    token = issue_token(settings, roles=[Role.OPS], ttl_s=120)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="medic", issuer="medic-test")
    assert claims["sub"].startswith("dev-")
    assert claims["roles"] == ["ops"]
    assert claims["exp"] - claims["iat"] == 120
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_token_without_roles_has_none(settings: ServiceSettings, verifier: TokenVerifier) -> None:
    assert verifier.verify(issue_token(settings, roles=[])).roles == frozenset()
    assert verifier.verify(jwt.encode(_claims(roles=None), SECRET, algorithm="HS256")).roles == frozenset()


def test_issue_token_refuses_unknown_roles(settings: ServiceSettings) -> None:
    with pytest.raises(ValueError):
        issue_token(settings, roles=["admin"])  # type: ignore[list-item]


def test_expired_token(settings: ServiceSettings, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(issue_token(settings, roles=[Role.OPS], ttl_s=-5))


def test_wrong_secret(settings: ServiceSettings, verifier: TokenVerifier) -> None:
    other = settings.model_copy(update={"jwt_secret": SecretStr("another-secret-that-is-long-enough-for-hs256")})
    with pytest.raises(InvalidToken, match=r"[Ss]ignature"):
        verifier.verify(issue_token(other, roles=[Role.OPS]))


def test_wrong_audience(settings: ServiceSettings, verifier: TokenVerifier) -> None:
    other = settings.model_copy(update={"jwt_audience": "another-api"})
    with pytest.raises(InvalidToken, match=r"[Aa]udience"):
        verifier.verify(issue_token(other, roles=[Role.OPS]))


def test_wrong_issuer(settings: ServiceSettings, verifier: TokenVerifier) -> None:
    other = settings.model_copy(update={"jwt_issuer": "someone-else"})
    with pytest.raises(InvalidToken, match=r"[Ii]ssuer"):
        verifier.verify(issue_token(other, roles=[Role.OPS]))


@pytest.mark.parametrize("roles", [["admin"], ["ops", "root"], "ops", 5, [None]])
def test_unknown_or_malformed_roles(verifier: TokenVerifier, roles: Any) -> None:
    token = jwt.encode(_claims(roles=roles), SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verifier.verify(token)


@pytest.mark.parametrize("missing", ["sub", "exp", "iat"])
def test_required_claims(verifier: TokenVerifier, missing: str) -> None:
    claims = _claims()
    del claims[missing]
    with pytest.raises(InvalidToken):
        verifier.verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_other_algorithms_and_garbage_are_refused(verifier: TokenVerifier) -> None:
    unsigned = jwt.encode(_claims(), "", algorithm="none")
    hs512 = jwt.encode(_claims(), SECRET, algorithm="HS512")
    for token in (unsigned, hs512, "not.a.jwt", "", "a" * 50):
        with pytest.raises(InvalidToken):
            verifier.verify(token)


# require_roles on a tiny app.


@pytest.fixture
async def client(verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.token_verifier = verifier

    @app.get("/planning")
    async def planning(
        principal: Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.OPS))],
    ) -> dict[str, Any]:
        return {"subject": principal.subject, "roles": sorted(principal.roles)}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_401_with_a_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/planning")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_another_scheme_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/planning", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kind", ["garbage", "expired", "wrong-secret"])
async def test_bad_token_is_401(client: httpx.AsyncClient, settings: ServiceSettings, kind: str) -> None:
    token = {
        "garbage": "not-a-token",
        "expired": issue_token(settings, roles=[Role.OPS], ttl_s=-1),
        "wrong-secret": issue_token(settings.model_copy(update={"jwt_secret": SecretStr("x" * 40)}), roles=[Role.OPS]),
    }[kind]
    response = await client.get("/planning", headers=_bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {"detail": "invalid or expired token"}  # no library internals


async def test_wrong_role_is_403(client: httpx.AsyncClient, settings: ServiceSettings) -> None:
    response = await client.get(
        "/planning",
        headers=_bearer(issue_token(settings, roles=[Role.STUDENT, Role.PARTNER], organisation_id=ORG)),
    )
    assert response.status_code == 403
    assert "coordinator" in response.json()["detail"]
    assert "ops" in response.json()["detail"]


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.OPS])
async def test_right_role_is_200(client: httpx.AsyncClient, settings: ServiceSettings, role: Role) -> None:
    token = issue_token(settings, roles=[Role.STUDENT, role], subject="someone")
    response = await client.get("/planning", headers=_bearer(token))
    assert response.status_code == 200
    assert response.json() == {"subject": "someone", "roles": sorted([Role.STUDENT.value, role.value])}


def test_a_partner_users_token_carries_its_organisation(settings: ServiceSettings) -> None:
    token = issue_token(settings, roles=[Role.PARTNER], subject="p.jones", organisation_id=ORG)
    principal = TokenVerifier(settings).verify(token)
    assert principal == Principal(subject="p.jones", roles=frozenset({Role.PARTNER}), organisation_id=ORG)


def test_a_partner_token_without_an_organisation_is_refused(settings: ServiceSettings) -> None:
    with pytest.raises(ValueError, match="organisation"):
        issue_token(settings, roles=[Role.PARTNER])
    now = int(time.time())
    claims = {"sub": "p", "roles": ["partner"], "iss": settings.jwt_issuer, "aud": settings.jwt_audience}
    forged = jwt.encode({**claims, "iat": now, "exp": now + 60}, settings.jwt_secret.get_secret_value(), "HS256")
    with pytest.raises(InvalidToken, match="org"):
        TokenVerifier(settings).verify(forged)
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(
            jwt.encode(
                {**claims, "org": "not-a-uuid", "iat": now, "exp": now + 60},
                settings.jwt_secret.get_secret_value(),
                "HS256",
            )
        )
