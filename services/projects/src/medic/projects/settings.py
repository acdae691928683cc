from pydantic import Field

from medic.shared.settings import ServiceSettings


class ProjectsSettings(ServiceSettings):
    service_name: str = Field(default="projects", exclude=True)
    port: int = Field(default=8001, validation_alias="PROJECTS_PORT")
    database_url: str = Field(default="sqlite+aiosqlite:///var/projects.db", validation_alias="PROJECTS_DATABASE_URL")
    # A cohort's group-size range when its coordinator gives none (the CAP has run with pairs up to groups of 6).
    cap_group_min_size: int = Field(default=2, ge=1, le=20, validation_alias="CAP_GROUP_MIN_SIZE")
    cap_group_max_size: int = Field(default=6, ge=1, le=20, validation_alias="CAP_GROUP_MAX_SIZE")
    # Partner verification links: how long one works, how soon a new one may be sent for the same request,
    # and where the token is appended to make the link a partner contact opens (a front end's page, or this API).
    verification_link_days: int = Field(default=14, ge=1, le=90, validation_alias="VERIFICATION_LINK_DAYS")
    verification_resend_days: float = Field(default=3, ge=0, le=30, validation_alias="VERIFICATION_RESEND_DAYS")
    verification_link_base_url: str = Field(
        default="http://127.0.0.1:8001/verifications/", validation_alias="VERIFICATION_LINK_BASE_URL"
    )
    # How often the reminder scheduler looks for milestones (and other timers) that are due.
    reminder_interval_s: float = Field(default=60.0, gt=0, le=86400, validation_alias="REMINDER_INTERVAL_S")
