from alembic import context

from medic.notifications.adapters.orm import metadata
from medic.shared.db import run_migrations_online

run_migrations_online(context.config.get_main_option("sqlalchemy.url") or "", metadata)
