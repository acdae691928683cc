"""Settings read from environment variables; every field has a working local default.

Each service subclasses `ServiceSettings` to add its own port and database URL under its own names
(for example `PROJECTS_DATABASE_URL`), so one environment can configure all three services at once.
"""

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-in-any-shared-environment"  # noqa: S105 - a documented local default


class ServiceSettings(BaseSettings):
    # Inputs are left out of validation errors: several settings hold passwords or keys.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    service_name: str = Field(default="medic", exclude=True)
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///var/medic.db"

    # PostgreSQL connections per process at most: pool + overflow. Every replica of every service holds its own, so
    # replicas x (pool + overflow) must stay under the server's max_connections (deploy/README.md, Scaling).
    database_pool_size: int = Field(default=20, ge=1, validation_alias="DATABASE_POOL_SIZE")
    database_max_overflow: int = Field(default=10, ge=0, validation_alias="DATABASE_MAX_OVERFLOW")

    rabbitmq_url: str = Field(default="amqp://guest:guest@127.0.0.1:5672/", validation_alias="RABBITMQ_URL")
    # The nodes of a cluster, comma-separated; when set, RABBITMQ_URL is not used. Read it as `rabbitmq_urls`.
    rabbitmq_url_list: Annotated[tuple[str, ...], NoDecode] = Field(default=(), validation_alias="RABBITMQ_URLS")
    broker_namespace: str = Field(
        default="medic",
        validation_alias="BROKER_NAMESPACE",
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Prefix of every exchange and queue name; tests use their own to stay apart.",
    )
    # Unacked messages in hand: twice the batch, so the next batch streams in while one is being applied.
    consumer_prefetch: int = Field(default=100, ge=1, validation_alias="CONSUMER_PREFETCH")
    # Messages applied in one transaction at most: what has arrived when the consumer is free, up to this.
    consumer_batch_size: int = Field(default=50, ge=1, validation_alias="CONSUMER_BATCH_SIZE")
    # Under load only (messages closer together than this), the first of a batch waits up to this for more.
    consumer_batch_wait_ms: float = Field(default=4.0, ge=0, le=1000, validation_alias="CONSUMER_BATCH_WAIT_MS")
    consumer_max_message_bytes: int = Field(default=256 * 1024, ge=1024, validation_alias="CONSUMER_MAX_MESSAGE_BYTES")
    consumer_graceful_timeout_s: float = Field(default=10.0, gt=0, validation_alias="CONSUMER_GRACEFUL_TIMEOUT_S")
    # Longer than any redelivery or retry window: an inbox row older than this can never meet its event again.
    inbox_retention_days: float = Field(default=14, gt=0, validation_alias="INBOX_RETENTION_DAYS")
    consumer_max_attempts: int = Field(default=5, ge=1, validation_alias="CONSUMER_MAX_ATTEMPTS")
    consumer_retry_delay_ms: int = Field(default=2000, ge=1, validation_alias="CONSUMER_RETRY_DELAY_MS")
    queue_delivery_limit: int = Field(default=10, ge=1, validation_alias="QUEUE_DELIVERY_LIMIT")

    outbox_batch_size: int = Field(default=200, ge=1, validation_alias="OUTBOX_BATCH_SIZE")
    # Under load only (commits closer together than this), the relay claims this long after the first commit.
    outbox_batch_wait_ms: float = Field(default=4.0, ge=0, le=1000, validation_alias="OUTBOX_BATCH_WAIT_MS")
    outbox_sweep_interval_s: float = Field(default=1.0, gt=0, validation_alias="OUTBOX_SWEEP_INTERVAL_S")
    outbox_max_backoff_s: float = Field(default=30.0, gt=0, validation_alias="OUTBOX_MAX_BACKOFF_S")
    outbox_retention_hours: float = Field(default=168, gt=0, validation_alias="OUTBOX_RETENTION_HOURS")
    publish_timeout_s: float = Field(default=10.0, gt=0, validation_alias="PUBLISH_TIMEOUT_S")

    jwt_secret: SecretStr = Field(default=SecretStr(DEV_JWT_SECRET), validation_alias="JWT_SECRET")
    jwt_algorithm: str = Field(default="HS256", validation_alias="JWT_ALGORITHM")
    jwt_jwks_url: str | None = Field(default=None, validation_alias="JWT_JWKS_URL")
    jwt_issuer: str = Field(default="medic-dev", validation_alias="JWT_ISSUER")
    jwt_audience: str = Field(default="medic", validation_alias="JWT_AUDIENCE")

    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")

    # The HTTP edge (medic.shared.http_edge): a larger body is refused with 413 before it is read.
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1, validation_alias="HTTP_MAX_BODY_BYTES")
    # The whole body must arrive within this once the route starts reading it, else 408 and the connection closes.
    http_body_timeout_s: float = Field(default=15.0, gt=0, validation_alias="HTTP_BODY_TIMEOUT_S")

    @field_validator("rabbitmq_url_list", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            urls = tuple(url.strip() for url in value.split(",") if url.strip())
            if not urls:
                raise ValueError("RABBITMQ_URLS, when set, must name at least one broker address")
        elif isinstance(value, list | tuple) and all(isinstance(url, str) for url in value):
            urls = tuple(value)  # given in code; empty (the default) means: RABBITMQ_URL alone
        else:
            return value  # the type check reports it
        for position, url in enumerate(urls, start=1):
            if not _is_amqp_url(url):  # the message never repeats the address: it may hold a password
                raise ValueError(f"address {position} of RABBITMQ_URLS is not an amqp:// or amqps:// URL with a host")
        return urls

    @property
    def rabbitmq_urls(self) -> tuple[str, ...]:
        """The broker addresses to connect to: RABBITMQ_URLS if set, else RABBITMQ_URL alone."""
        return self.rabbitmq_url_list or (self.rabbitmq_url,)


def _is_amqp_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme in ("amqp", "amqps") and bool(parts.hostname)
