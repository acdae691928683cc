"""Signing secrets encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, authenticated), with a key from the
environment (`WEBHOOK_SECRETS_KEY`).

The key setting may list several keys, comma-separated: the first encrypts, any of them decrypts. To change the key,
put the new one first and keep the old one after it until every secret has been rotated (or re-sealed), then drop it.

Each sealed secret is bound to the endpoint it belongs to: a ciphertext copied onto another endpoint's row does not
open there.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_SEPARATOR = "\n"  # never in an endpoint id (a UUID) nor in a `whsec_` secret (base64)


class SecretUnreadable(Exception):
    """A sealed secret that none of the configured keys opens (a wrong key, or a tampered row)."""


class InvalidSecretsKey(ValueError):
    """The configured key is not a list of Fernet keys (32 url-safe base64 bytes each). Never repeats the key."""


class SecretBox:
    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise InvalidSecretsKey("WEBHOOK_SECRETS_KEY is empty")
        try:
            fernets = [Fernet(part.encode()) for part in parts]
        except (ValueError, TypeError):
            raise InvalidSecretsKey(
                "WEBHOOK_SECRETS_KEY must be Fernet keys (32 url-safe base64 bytes each), comma-separated"
            ) from None
        self._first = fernets[0]
        self._fernet = MultiFernet(fernets)

    def seal(self, secret: str, *, bound_to: str) -> str:
        """The secret encrypted with the first key, bound to `bound_to` (the endpoint id)."""
        return self._fernet.encrypt(f"{bound_to}{_SEPARATOR}{secret}".encode()).decode()

    def open(self, sealed: str, *, bound_to: str) -> str:
        """The secret `seal` sealed for `bound_to`; SecretUnreadable otherwise."""
        try:
            plain = self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, UnicodeDecodeError):
            raise SecretUnreadable("a signing secret could not be decrypted with the configured keys") from None
        owner, separator, secret = plain.partition(_SEPARATOR)
        if not separator or owner != bound_to:
            raise SecretUnreadable("a signing secret belongs to another endpoint")
        return secret

    def needs_resealing(self, sealed: str) -> bool:
        """Whether `sealed` was encrypted with a key other than the first (after a key change)."""
        try:
            self._first.decrypt(sealed.encode())
        except InvalidToken:
            return True
        return False

    def reseal(self, sealed: str) -> str:
        """The same secret encrypted with the first key; SecretUnreadable if no configured key opens it."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("a signing secret could not be decrypted with the configured keys") from None
