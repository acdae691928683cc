#!/bin/sh
# `make lint`: deploy/compose.yaml must be accepted by Docker Compose (v2 `docker compose` or v1 `docker-compose`,
# whichever is installed; no Docker engine needed) and by the Compose Specification's JSON schema.
# The committed example env file stands in for the real, ignored one. Arguments (for tests): compose file, env file.
set -eu
case "$0" in */*) cd "${0%/*}/.." ;; *) cd .. ;; esac

compose_file="${1:-deploy/compose.yaml}"
env_file="${2:-deploy/compose.env.example}"
status=0

if docker compose version >/dev/null 2>&1; then
    compose="docker compose"
elif command -v docker-compose >/dev/null 2>&1; then
    compose="docker-compose"
else
    compose=""
fi

if [ -n "$compose" ]; then
    echo "$compose: $compose_file"
    $compose --env-file "$env_file" -f "$compose_file" config -q || status=1
elif [ "${CI:-}" = true ]; then
    echo "neither 'docker compose' nor 'docker-compose' is installed: cannot validate $compose_file" >&2
    status=1
else
    echo "neither 'docker compose' nor 'docker-compose' is installed: skipping its check of $compose_file" >&2
fi

schema_check="${CHECK_JSONSCHEMA:-.venv/bin/check-jsonschema}"
if ! command -v "$schema_check" >/dev/null 2>&1; then
    schema_check=check-jsonschema
fi
echo "check-jsonschema (compose-spec): $compose_file"
"$schema_check" --builtin-schema vendor.compose-spec "$compose_file" || status=1

exit "$status"
