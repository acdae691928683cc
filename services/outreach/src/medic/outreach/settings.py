from pathlib import Path

from pydantic import Field, SecretStr

from medic.outreach.domain.safeguarding import ContactKind
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
    # Mentoring: the kind of contact a mentor has with their mentee (regular, possibly unsupervised: the guard asks
    # for clearance for it); how often every active match is rechecked (lapses by time pause it at the next tick).
    mentoring_contact_kind: ContactKind = Field(
        default=ContactKind.UNSUPERVISED_OR_REGULAR, validation_alias="OUTREACH_MENTORING_CONTACT_KIND"
    )
    mentoring_recheck_interval_s: float = Field(
        default=86400, gt=0, validation_alias="OUTREACH_MENTORING_RECHECK_INTERVAL_S"
    )
    # Safeguarding: the key DBS certificate numbers are hashed under (HMAC-SHA256; the default is for development
    # only: set your own secret, and keep it, or recorded numbers can no longer be verified); a DBS recheck is due
    # this many years after issue or after the last Update Service check finding no change; the kind of contact a
    # primary-school session is (a teacher is present: supervised_occasional); how often the reminders timer looks.
    dbs_certificate_key: SecretStr = Field(
        default=SecretStr("dev-only-dbs-certificate-key-replace-me"), validation_alias="OUTREACH_DBS_CERTIFICATE_KEY"
    )
    safeguarding_recheck_years: int = Field(
        default=3, ge=1, le=10, validation_alias="OUTREACH_SAFEGUARDING_RECHECK_YEARS"
    )
    primary_contact_kind: ContactKind = Field(
        default=ContactKind.SUPERVISED_OCCASIONAL, validation_alias="OUTREACH_PRIMARY_CONTACT_KIND"
    )
    safeguarding_timers_interval_s: float = Field(
        default=3600, gt=0, validation_alias="OUTREACH_SAFEGUARDING_TIMERS_INTERVAL_S"
    )
    # Consent: under this age a parent's or guardian's consent is needed besides the participant's own (never below
    # 13: under-13s always need one); expiry reminders this many days before a consent's last day; how often the
    # consent expiry timer looks.
    consent_guardian_age: int = Field(default=18, ge=13, le=18, validation_alias="OUTREACH_CONSENT_GUARDIAN_AGE")
    consent_expiry_reminder_days: int = Field(
        default=14, ge=1, le=90, validation_alias="OUTREACH_CONSENT_EXPIRY_REMINDER_DAYS"
    )
    consent_expiry_interval_s: float = Field(default=300, gt=0, validation_alias="OUTREACH_CONSENT_EXPIRY_INTERVAL_S")
    # Retention (the yearly review lists on 1 September, erases from 1 November what is not kept): WATCCH participants
    # whose last cycle's programme ended more than `years` ago; medical students' safeguarding records `months` after
    # they left; at least `min_review_days` between a (late) listing and the erasing; how often the timer looks.
    retention_participant_years: int = Field(
        default=6, ge=1, le=100, validation_alias="OUTREACH_RETENTION_PARTICIPANT_YEARS"
    )
    retention_safeguarding_months: int = Field(
        default=6, ge=1, le=1200, validation_alias="OUTREACH_RETENTION_SAFEGUARDING_MONTHS"
    )
    retention_min_review_days: int = Field(
        default=30, ge=0, le=365, validation_alias="OUTREACH_RETENTION_MIN_REVIEW_DAYS"
    )
    retention_sweep_interval_s: float = Field(
        default=86400, gt=0, validation_alias="OUTREACH_RETENTION_SWEEP_INTERVAL_S"
    )
