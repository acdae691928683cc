from pathlib import Path

from pydantic import Field

from medic.shared.settings import ServiceSettings

SAMPLE_LOOKUPS = Path(__file__).parent / "lookups" / "samples"


class OutreachSettings(ServiceSettings):
    service_name: str = Field(default="outreach", exclude=True)
    port: int = Field(default=8002, validation_alias="OUTREACH_PORT")
    database_url: str = Field(default="sqlite+aiosqlite:///var/outreach.db", validation_alias="OUTREACH_DATABASE_URL")
    # The primary-school programme: how many medical students may deliver one session (usually a pair).
    primary_max_students: int = Field(default=6, ge=1, le=30, validation_alias="OUTREACH_PRIMARY_MAX_STUDENTS")
    # Where "today" is reckoned for the programme (a delivery is recorded on or after the session's day).
    primary_timezone: str = Field(default="Europe/London", validation_alias="OUTREACH_PRIMARY_TIMEZONE")
    # Area indicators: the directory the lookup files (ONS postcode directory, POLAR4, TUNDRA, IMD) are loaded from;
    # its manifest.csv is loaded into a fresh database at startup. Default: the small samples shipped with the code.
    lookups_dir: Path = Field(default=SAMPLE_LOOKUPS, validation_alias="OUTREACH_LOOKUPS_DIR")
    load_lookups_at_startup: bool = Field(default=True, validation_alias="OUTREACH_LOAD_LOOKUPS_AT_STARTUP")
    # WATCCH: an offer lapses this many days after it is made unless accepted (a cycle's default; each cycle may
    # set its own); how often the timer looks for lapsed offers.
    watcch_offer_lifetime_days: int = Field(
        default=10, ge=1, le=90, validation_alias="OUTREACH_WATCCH_OFFER_LIFETIME_DAYS"
    )
    watcch_offer_expiry_interval_s: float = Field(
        default=300, gt=0, validation_alias="OUTREACH_WATCCH_OFFER_EXPIRY_INTERVAL_S"
    )
    # WATCCH public application form: each client (by address) may send `burst` at once, then one every
    # 60 / `per_minute` seconds (a token bucket); beyond that 429 with Retry-After.
    watcch_apply_per_minute: float = Field(default=2, gt=0, validation_alias="OUTREACH_WATCCH_APPLY_PER_MINUTE")
    watcch_apply_burst: int = Field(default=5, ge=1, validation_alias="OUTREACH_WATCCH_APPLY_BURST")
    # WATCCH referee links: how long one works, and the least time before a new one for an unanswered request.
    watcch_referee_link_days: int = Field(default=14, ge=1, le=60, validation_alias="OUTREACH_WATCCH_REFEREE_LINK_DAYS")
    watcch_referee_resend_hours: int = Field(default=72, ge=0, validation_alias="OUTREACH_WATCCH_REFEREE_RESEND_HOURS")
    # Impact report: whether coordinators may ask for the exact figures (`policy=none`, an internal operational view
    # marked not for publication). Off: only the publishable policies (hesa, ofs) are served.
    report_exact_allowed: bool = Field(default=True, validation_alias="OUTREACH_REPORT_EXACT_ALLOWED")
