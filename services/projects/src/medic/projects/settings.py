from pydantic import Field

from medic.shared.settings import ServiceSettings


class ProjectsSettings(ServiceSettings):
    service_name: str = Field(default="projects", exclude=True)
    port: int = Field(default=8001, validation_alias="PROJECTS_PORT")
    database_url: str = Field(default="sqlite+aiosqlite:///var/projects.db", validation_alias="PROJECTS_DATABASE_URL")
