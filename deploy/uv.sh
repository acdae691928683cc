#!/bin/sh
# Run uv, installing it from PyPI first if this machine has none.
if command -v uv >/dev/null 2>&1; then
    exec uv "$@"
fi
if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "uv not found: installing it with pip" >&2
    python3 -m pip install --quiet uv || exit 1
fi
exec python3 -m uv "$@"
