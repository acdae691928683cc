from pathlib import Path

from pydantic import Field

from medic.shared.settings import ServiceSettings

SAMPLE_LOOKUPS = Path(__file__).parent / "lookups" / "samples"


class OutreachSettings(ServiceSettings):
    service_name: str = Field(default="outreach", exclude=True)
    port: int = Field(default=8002, validation_alias="OUTREACH_PORT")
    database_url: str = Field(default="sqlite+aiosqlite:///var/outreach.db", validation_alias="OUTREACH_DATABASE_URL")
    # Area indicators: the directory the lookup files (ONS postcode directory, POLAR4, TUNDRA, IMD) are loaded from;
    # its manifest.csv is loaded into a fresh database at startup. Default: the small samples shipped with the code.
    lookups_dir: Path = Field(default=SAMPLE_LOOKUPS, validation_alias="OUTREACH_LOOKUPS_DIR")
    load_lookups_at_startup: bool = Field(default=True, validation_alias="OUTREACH_LOAD_LOOKUPS_AT_STARTUP")
    # The primary-school programme: how many medical students may deliver one session (usually a pair).
    primary_max_students: int = Field(default=6, ge=1, le=30, validation_alias="OUTREACH_PRIMARY_MAX_STUDENTS")
    # Where "today" is reckoned for the programme (a delivery is recorded on or after the session's day).
    primary_timezone: str = Field(default="Europe/London", validation_alias="OUTREACH_PRIMARY_TIMEZONE")
