"""Running the services in-process against real infrastructure, and waiting for what they do."""

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from medic.shared.auth import Role, issue_token
from medic.shared.settings import ServiceSettings
from tests.support import FAST_FAILURE_HANDLING, any_organisation

T = TypeVar("T")


def settings_for(cls: type[T], *, rabbitmq_url: str, namespace: str, database_url: str, **extra: str) -> T:
    prefix = cls.__name__.removesuffix("Settings").upper()
    values = {
        "RABBITMQ_URL": rabbitmq_url,
        "BROKER_NAMESPACE": namespace,
        f"{prefix}_DATABASE_URL": database_url,
        **FAST_FAILURE_HANDLING,
        **extra,
    }
    return cls(**values)


class Infrastructure(TypedDict):
    """Where `running` starts services, as keyword arguments: `running(*names, **infrastructure)`."""

    rabbitmq_url: str
    namespace: str
    database_urls: Callable[[str], str]


@dataclass
class Running:
    service: Any
    client: httpx.AsyncClient

    async def get(self, path: str, role: Role = Role.OPS, **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=auth(self.service.settings, role))
        response.raise_for_status()
        return response.json()


def auth(settings: ServiceSettings, *roles: Role) -> dict[str, str]:
    granted = roles or (Role.COORDINATOR,)
    token = issue_token(settings, roles=granted, organisation_id=any_organisation(granted))
    return {"Authorization": f"Bearer {token}"}


def builder(service: str) -> tuple[Callable[[Any], Any], type[ServiceSettings]]:
    """The service's `bootstrap.build` and settings class, e.g. `medic.projects`."""
    bootstrap = importlib.import_module(f"medic.{service}.bootstrap")
    settings = importlib.import_module(f"medic.{service}.settings")
    return bootstrap.build, getattr(settings, f"{service.capitalize()}Settings")


@asynccontextmanager
async def running(
    *names: str, rabbitmq_url: str, namespace: str, database_urls: Callable[[str], str], **extra: str
) -> AsyncIterator[dict[str, Running]]:
    """Start the named services (lifespan: migrations, relay, consumers) with an HTTP client each."""
    async with AsyncExitStack() as stack:
        started: dict[str, Running] = {}
        for name in names:
            build, settings_cls = builder(name)
            settings = settings_for(
                settings_cls,
                rabbitmq_url=rabbitmq_url,
                namespace=namespace,
                database_url=database_urls(name),
                **extra,
            )
            service = build(settings)
            app: FastAPI = service.app
            await stack.enter_async_context(LifespanManager(app, startup_timeout=60, shutdown_timeout=30))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
            started[name] = Running(service, client)
        yield started
