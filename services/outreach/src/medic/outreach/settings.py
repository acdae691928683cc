from pydantic import Field

from medic.shared.settings import ServiceSettings


class OutreachSettings(ServiceSettings):
    service_name: str = Field(default="outreach", exclude=True)
    port: int = Field(default=8002, validation_alias="OUTREACH_PORT")
    database_url: str = Field(default="sqlite+aiosqlite:///var/outreach.db", validation_alias="OUTREACH_DATABASE_URL")
