# syntax=docker/dockerfile:1
# The outreach service's image: its own package, the shared one and their locked dependencies, nothing else.
# Each service's Dockerfile in deploy/docker/ is this one with the service's name and port changed
# (tests/deploy/test_images.py checks that they stay so, and runs their install steps without Docker).
#
# Build from the repository root:
#   docker build -f deploy/docker/outreach.Dockerfile -t medic/outreach .
# Reproducible build (same sources and base images, same image digest):
#   docker buildx build --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
#     --output type=image,name=medic/outreach,rewrite-timestamp=true -f deploy/docker/outreach.Dockerfile .
# The base images are pinned by tag; in production pin them by digest too (image:tag@sha256:...), bumped by a bot.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# uv at the version this repository is developed with (`uv --version`).
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled at build time (deterministic: hash-checked .pyc under SOURCE_DATE_EPOCH); a copied, not linked,
# install (the cache is another mount); the base image's Python only, which the final stage has at the same path.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/venv
ARG SOURCE_DATE_EPOCH
WORKDIR /src

# The dependencies first, from the lock alone: this layer is rebuilt only when the lock or a manifest changes.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/outreach/pyproject.toml services/outreach/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package medic-outreach --no-editable --no-install-workspace

# Then the code: the shared package and this service, installed as wheels (with their migrations and data files).
COPY shared/src shared/src
COPY services/outreach/src services/outreach/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package medic-outreach --no-editable

FROM ${PYTHON_IMAGE}
ARG SOURCE_DATE_EPOCH
# A fixed, numeric non-root user, so Kubernetes' runAsNonRoot can check it and volumes can be chowned to it.
# /app/var holds the SQLite file and written emails of a bare `docker run`; real deployments set database URLs.
RUN groupadd --system --gid 10001 medic \
    && useradd --system --no-log-init --uid 10001 --gid medic --home-dir /app --no-create-home --shell /usr/sbin/nologin medic \
    && install -d -o medic -g medic /app/var
COPY --from=builder /app/venv /app/venv
ENV PATH=/app/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    OUTREACH_PORT=8002
WORKDIR /app
USER 10001:10001
EXPOSE 8002
# slim has no curl: ask /healthz with Python's urllib (an HTTP error or no answer raises, and the check fails).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['OUTREACH_PORT'] + '/healthz', timeout=4)"]
# SIGTERM: the service drains HTTP requests, finishes the consumer's batch and stops the relay, then exits 0.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "medic.outreach"]
