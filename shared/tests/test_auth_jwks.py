"""RS256 tokens verified against an identity provider's JWKS endpoint (here a local one)."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from medic.shared.auth import InvalidToken, Role, TokenVerifier
from medic.shared.settings import ServiceSettings

KEY_ID = "provider-key-1"


@pytest.fixture(scope="module")
def provider_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(provider_key: rsa.RSAPrivateKey) -> Iterator[str]:
    public_jwk = json.loads(RSAAlgorithm.to_jwk(provider_key.public_key()))
    document = json.dumps({"keys": [{**public_jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def _token(key: Any, *, kid: str = KEY_ID, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"sub": "u1", "roles": ["ops"], "iss": "idp", "aud": "medic", "iat": now, "exp": now + 60, **overrides}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_rs256_token_from_the_jwks_provider_is_accepted(provider_key: rsa.RSAPrivateKey, jwks_url: str) -> None:
    settings = ServiceSettings(JWT_ALGORITHM="RS256", JWT_JWKS_URL=jwks_url, JWT_ISSUER="idp")
    principal = TokenVerifier(settings).verify(_token(provider_key))
    assert principal.subject == "u1"
    assert principal.roles == {Role.OPS}


def test_rs256_token_signed_by_another_key_is_refused(jwks_url: str) -> None:
    settings = ServiceSettings(JWT_ALGORITHM="RS256", JWT_JWKS_URL=jwks_url, JWT_ISSUER="idp")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(_token(stranger))
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(_token(stranger, kid="unknown-key"))


def test_an_hs256_token_is_refused_when_rs256_is_configured(jwks_url: str) -> None:
    settings = ServiceSettings(JWT_ALGORITHM="RS256", JWT_JWKS_URL=jwks_url, JWT_ISSUER="idp")
    forged = jwt.encode(
        {"sub": "u1", "roles": ["ops"]},
        "a-guessed-shared-secret-of-32-bytes!!",
        algorithm="HS256",
        headers={"kid": KEY_ID},
    )
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(forged)
