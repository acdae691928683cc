"""Standard Webhooks 1.0 signing, with no I/O: secrets, the three headers, the signature over the raw body.

A secret is `whsec_` + base64 of 24-64 random bytes; the HMAC key is those bytes. The signature covers
`{webhook-id}.{webhook-timestamp}.{raw body}`; during a rotation the header carries one `v1,` signature per valid
secret, space-separated, and a receiver accepts the message if any one verifies.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard prefix, not a secret
SECRET_BYTES = 32  # within the standard's 24-64
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64


class InvalidSecret(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for; InvalidSecret if it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"a signing secret starts with `{SECRET_PREFIX}`")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise InvalidSecret("a signing secret is base64 after its prefix") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(f"a signing secret holds {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes")
    return key


def signature(message_id: str, timestamp: int, body: bytes, secrets_: Sequence[str]) -> str:
    """The `webhook-signature` header: one `v1,<base64 HMAC-SHA256>` per secret, space-separated."""
    if not secrets_:
        raise InvalidSecret("a message is signed with at least one secret")
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()
        for secret in secrets_
    )


def headers(message_id: str, timestamp: int, body: bytes, secrets_: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (`message_id` is the same on every retry)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(message_id, timestamp, body, secrets_),
    }
