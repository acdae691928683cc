from pydantic import Field

from medic.shared.settings import ServiceSettings


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
