"""ServiceSettings: working defaults, environment overrides through the documented names, validation."""

import pytest
from pydantic import AliasChoices, Field, ValidationError

from medic.shared.settings import DEV_JWT_SECRET, ServiceSettings


def _env_names(settings_class: type[ServiceSettings]) -> set[str]:
    names: set[str] = set()
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        names.add(field_name.upper())
    return names


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the machine running the tests has set must not leak into the defaults."""
    for name in _env_names(ServiceSettings) | {"SVC_PORT", "SVC_DATABASE_URL"}:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_defaults_work_locally() -> None:
    settings = ServiceSettings()

    assert settings.service_name == "medic"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.database_url == "sqlite+aiosqlite:///var/medic.db"
    assert settings.rabbitmq_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.broker_namespace == "medic"
    assert settings.consumer_prefetch == 100
    assert settings.consumer_batch_size == 50
    assert settings.consumer_max_message_bytes == 256 * 1024
    assert settings.inbox_retention_days == 14
    assert settings.consumer_max_attempts == 5
    assert settings.consumer_retry_delay_ms == 2000
    assert settings.queue_delivery_limit == 10
    assert settings.outbox_batch_size == 200
    assert settings.outbox_sweep_interval_s == 1.0
    assert settings.outbox_max_backoff_s == 30.0
    assert settings.publish_timeout_s == 10.0
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert settings.jwt_algorithm == "HS256"
    assert settings.jwt_jwks_url is None
    assert settings.jwt_issuer == "medic-dev"
    assert settings.jwt_audience == "medic"
    assert settings.log_level == "INFO"


def test_environment_overrides_through_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://u:p@rabbit:5672/vh")
    monkeypatch.setenv("BROKER_NAMESPACE", "test_run-42")
    monkeypatch.setenv("CONSUMER_PREFETCH", "7")
    monkeypatch.setenv("CONSUMER_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("CONSUMER_RETRY_DELAY_MS", "150")
    monkeypatch.setenv("QUEUE_DELIVERY_LIMIT", "4")
    monkeypatch.setenv("OUTBOX_BATCH_SIZE", "11")
    monkeypatch.setenv("OUTBOX_SWEEP_INTERVAL_S", "0.25")
    monkeypatch.setenv("OUTBOX_MAX_BACKOFF_S", "2.5")
    monkeypatch.setenv("PUBLISH_TIMEOUT_S", "1.5")
    monkeypatch.setenv("JWT_SECRET", "from-the-environment")
    monkeypatch.setenv("JWT_ALGORITHM", "RS256")
    monkeypatch.setenv("JWT_JWKS_URL", "https://idp.example/.well-known/jwks.json")
    monkeypatch.setenv("JWT_ISSUER", "https://idp.example/")
    monkeypatch.setenv("JWT_AUDIENCE", "medic-api")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")

    settings = ServiceSettings()

    assert settings.host == "0.0.0.0"
    assert settings.rabbitmq_url == "amqp://u:p@rabbit:5672/vh"
    assert settings.broker_namespace == "test_run-42"
    assert settings.consumer_prefetch == 7
    assert settings.consumer_max_attempts == 3
    assert settings.consumer_retry_delay_ms == 150
    assert settings.queue_delivery_limit == 4
    assert settings.outbox_batch_size == 11
    assert settings.outbox_sweep_interval_s == 0.25
    assert settings.outbox_max_backoff_s == 2.5
    assert settings.publish_timeout_s == 1.5
    assert settings.jwt_secret.get_secret_value() == "from-the-environment"
    assert settings.jwt_algorithm == "RS256"
    assert settings.jwt_jwks_url == "https://idp.example/.well-known/jwks.json"
    assert settings.jwt_issuer == "https://idp.example/"
    assert settings.jwt_audience == "medic-api"
    assert settings.log_level == "DEBUG"


def test_a_service_subclass_reads_its_own_names(monkeypatch: pytest.MonkeyPatch) -> None:
    class SvcSettings(ServiceSettings):
        service_name: str = Field(default="svc", exclude=True)
        port: int = Field(default=8123, validation_alias="SVC_PORT")
        database_url: str = Field(default="sqlite+aiosqlite:///var/svc.db", validation_alias="SVC_DATABASE_URL")

    assert SvcSettings().port == 8123

    monkeypatch.setenv("PORT", "9999")  # another service's generic name must not apply
    monkeypatch.setenv("SVC_PORT", "8200")
    monkeypatch.setenv("SVC_DATABASE_URL", "postgresql+asyncpg://db/svc")
    monkeypatch.setenv("BROKER_NAMESPACE", "shared-by-all")

    settings = SvcSettings()

    assert settings.service_name == "svc"
    assert settings.port == 8200
    assert settings.database_url == "postgresql+asyncpg://db/svc"
    assert settings.broker_namespace == "shared-by-all"
    assert "service_name" not in settings.model_dump()


@pytest.mark.parametrize("namespace", ["Medic", "has space", "-leading-dash", "_leading", "dotted.name", "", "ünï"])
def test_invalid_broker_namespace_is_rejected(monkeypatch: pytest.MonkeyPatch, namespace: str) -> None:
    monkeypatch.setenv("BROKER_NAMESPACE", namespace)
    with pytest.raises(ValidationError, match="BROKER_NAMESPACE"):
        ServiceSettings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONSUMER_PREFETCH", "0"),
        ("CONSUMER_MAX_ATTEMPTS", "0"),
        ("CONSUMER_RETRY_DELAY_MS", "0"),
        ("QUEUE_DELIVERY_LIMIT", "0"),
        ("OUTBOX_BATCH_SIZE", "0"),
        ("OUTBOX_SWEEP_INTERVAL_S", "0"),
        ("OUTBOX_MAX_BACKOFF_S", "-1"),
        ("PUBLISH_TIMEOUT_S", "0"),
        ("CONSUMER_PREFETCH", "many"),
    ],
)
def test_out_of_range_numbers_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ServiceSettings()


def test_settings_are_frozen_and_do_not_show_the_secret() -> None:
    settings = ServiceSettings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
    assert DEV_JWT_SECRET not in repr(settings)
    assert DEV_JWT_SECRET not in str(settings.model_dump())


def test_one_broker_address_by_default_and_from_rabbitmq_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServiceSettings().rabbitmq_urls == ("amqp://guest:guest@127.0.0.1:5672/",)

    monkeypatch.setenv("RABBITMQ_URL", "amqp://u:p@rabbit:5672/vh")

    assert ServiceSettings().rabbitmq_urls == ("amqp://u:p@rabbit:5672/vh",)


def test_rabbitmq_urls_lists_a_clusters_nodes_and_wins_over_rabbitmq_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RABBITMQ_URL", "amqp://u:p@single:5672/")
    monkeypatch.setenv("RABBITMQ_URLS", " amqp://u:p@rabbit-1:5672/vh, amqps://u:p@rabbit-2/vh ,amqp://rabbit-3:5673,")

    settings = ServiceSettings()

    assert settings.rabbitmq_urls == ("amqp://u:p@rabbit-1:5672/vh", "amqps://u:p@rabbit-2/vh", "amqp://rabbit-3:5673")
    assert settings.rabbitmq_url == "amqp://u:p@single:5672/"  # as given; what connects is rabbitmq_urls


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "at least one"),
        (" , ,", "at least one"),
        ("amqp://u:s3cret@rabbit-1:5672/, http://u:s3cret@rabbit-2/", "address 2 of RABBITMQ_URLS"),
        ("rabbit-1:5672", "address 1 of RABBITMQ_URLS"),
        ("amqp://u:s3cret@:5672/", "address 1 of RABBITMQ_URLS"),
        ("amqp://u:s3cret@rabbit-1:99999/", "address 1 of RABBITMQ_URLS"),
        ("amqp://u:s3cret@rabbit-1:port/", "address 1 of RABBITMQ_URLS"),
    ],
)
def test_invalid_rabbitmq_urls_are_rejected_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("RABBITMQ_URLS", value)

    with pytest.raises(ValidationError, match="RABBITMQ_URLS") as raised:
        ServiceSettings()

    assert problem in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_database_pool_sizes_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "0")
    settings = ServiceSettings()
    assert (settings.database_pool_size, settings.database_max_overflow) == (4, 0)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "0")
    with pytest.raises(ValidationError, match="DATABASE_POOL_SIZE"):
        ServiceSettings()
