from pydantic import Field, SecretStr

from medic.shared.settings import ServiceSettings

# A documented local default, like the JWT secret: any shared environment sets its own (32 url-safe base64 bytes).
DEV_WEBHOOK_SECRETS_KEY = "ZGV2LW9ubHktd2ViaG9vay1zZWNyZXRzLWtleS0wMDA="


class NotificationsSettings(ServiceSettings):
    service_name: str = Field(default="notifications", exclude=True)
    port: int = Field(default=8003, validation_alias="NOTIFICATIONS_PORT")
    database_url: str = Field(
        default="sqlite+aiosqlite:///var/notifications.db", validation_alias="NOTIFICATIONS_DATABASE_URL"
    )
    stream_keepalive_s: float = Field(
        default=15.0,
        gt=0,
        validation_alias="NOTIFICATIONS_STREAM_KEEPALIVE_S",
        description="Seconds between `: keepalive` comments on an idle event stream.",
    )
    stream_queue_size: int = Field(
        default=1000,
        ge=1,
        validation_alias="NOTIFICATIONS_STREAM_QUEUE_SIZE",
        description="Events buffered per stream subscriber; one that falls further behind is dropped.",
    )
    stream_poll_interval_s: float = Field(
        default=0.5,
        gt=0,
        validation_alias="NOTIFICATIONS_STREAM_POLL_INTERVAL_S",
        description=(
            "How often the live tail reads the log for events other replicas logged (those logged by this one go "
            "out at once): how late such an event may reach a stream here."
        ),
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8003",
        validation_alias="NOTIFICATIONS_PUBLIC_BASE_URL",
        description="How people reach this service: the base of unsubscribe links in emails.",
    )

    # Webhooks
    webhook_secrets_key: SecretStr = Field(
        default=SecretStr(DEV_WEBHOOK_SECRETS_KEY),
        validation_alias="WEBHOOK_SECRETS_KEY",
        description="Encrypts endpoint signing secrets at rest (a Fernet key: 32 bytes, url-safe base64).",
    )
    webhook_allow_http: bool = Field(
        default=False,
        validation_alias="WEBHOOK_ALLOW_HTTP",
        description="Accept `http://` endpoint URLs (local development only; partners get https).",
    )
    webhook_allow_loopback: bool = Field(
        default=False,
        validation_alias="WEBHOOK_ALLOW_LOOPBACK",
        description="Accept endpoints on loopback addresses (local development and tests only).",
    )
    webhook_secret_overlap_s: float = Field(
        default=24 * 3600,
        ge=0,
        validation_alias="WEBHOOK_SECRET_OVERLAP_S",
        description="How long a rotated-out secret still signs deliveries, beside the new one.",
    )
    webhook_timeout_s: float = Field(default=15.0, gt=0, validation_alias="WEBHOOK_TIMEOUT_S")
    webhook_disable_after_s: float = Field(
        default=5 * 24 * 3600,
        gt=0,
        validation_alias="WEBHOOK_DISABLE_AFTER_S",
        description="An endpoint failing for this long (no success since its first failure) is disabled.",
    )
    webhook_max_in_flight: int = Field(
        default=8,
        ge=1,
        validation_alias="WEBHOOK_MAX_IN_FLIGHT",
        description="Deliveries to one endpoint at the same time, from one replica.",
    )
    webhook_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        validation_alias="WEBHOOK_POLL_INTERVAL_S",
        description="How often the dispatcher looks for due deliveries when nothing wakes it.",
    )

    # Email
    smtp_url: str | None = Field(
        default=None,
        validation_alias="SMTP_URL",
        description=(
            "`smtp://user:password@host:port` (STARTTLS when offered) or `smtps://...` (implicit TLS). "
            "Unset: emails are written as .eml files under `mail_dir`."
        ),
    )
    mail_dir: str = Field(default="var/mail", validation_alias="NOTIFICATIONS_MAIL_DIR")
    mail_from: str = Field(default="Social Accountability Team <no-reply@medic.example>", validation_alias="MAIL_FROM")
    coordinator_emails: str = Field(
        default="coordinators@medic.example",
        validation_alias="NOTIFICATIONS_COORDINATOR_EMAILS",
        description="The programme coordinators' addresses, comma-separated (a team mailbox is usual).",
    )
    mail_poll_interval_s: float = Field(default=1.0, gt=0, validation_alias="MAIL_POLL_INTERVAL_S")
