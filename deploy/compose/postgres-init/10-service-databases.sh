#!/bin/sh
# Run by the postgres image on its first start (an empty data volume): one database and one user per service,
# each user owning its database only, and nobody else allowed to connect to it.
set -eu

create() {  # service name, its password
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        --set=name="$1" --set=password="$2" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
}

create projects "$PROJECTS_DB_PASSWORD"
create outreach "$OUTREACH_DB_PASSWORD"
create notifications "$NOTIFICATIONS_DB_PASSWORD"
