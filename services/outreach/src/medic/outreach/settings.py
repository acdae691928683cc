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
