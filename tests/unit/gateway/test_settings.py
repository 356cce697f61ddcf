"""``Settings.load``: defaults, then ``ALMACEN_*`` variables, then the mapping given."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from almacen.gateway import Settings
from almacen.gateway.app import gateway_of
from almacen.gateway.settings import SettingsError

#: For every field: the text of its environment variable and the value it must load as.
FROM_ENVIRONMENT = {
    "database_url": ("postgresql+psycopg://almacen@db:5432/almacen",) * 2,
    "admin_token": ("an-operator-token",) * 2,
    "rate_limit": ("10/second",) * 2,
    "rate_limit_storage": ("redis://cache:6379/0",) * 2,
    "rate_limit_strategy": ("moving-window",) * 2,
    "auth_cache_seconds": ("0.5", 0.5),
    "idempotency_ttl_seconds": ("3600", 3600),
    "load_entrypoints": ("false", False),
    "blocked_plugins": ("calendar, ledger,,bots", ("calendar", "ledger", "bots")),
    "extra_plugins": ("myco.consumers, tests.plugins.x", ("myco.consumers", "tests.plugins.x")),
    "trace_plugins": ("yes", True),
    "validate_responses": ("1", True),
    "log_level": ("DEBUG",) * 2,
    "log_json": ("off", False),
    "delivery": ("worker",) * 2,
    "delivery_batch_size": ("500", 500),
    "delivery_max_attempts": ("3", 3),
    "delivery_backoff_seconds": ("0.25", 0.25),
    "delivery_poll_seconds": ("0.1", 0.1),
    "queue_url": ("amqp://guest:guest@rabbit:5672/",) * 2,
    "rule_depth_limit": ("3", 3),
    "queue_name": ("collections-events",) * 2,
    "webhook_allowed_networks": ("127.0.0.1/32, 10.0.0.0/8", ("127.0.0.1/32", "10.0.0.0/8")),
    "webhook_timeout_seconds": ("2.5", 2.5),
    "webhook_retry_scale": ("0", 0.0),
}


def env(name: str) -> str:
    """The environment variable of a field."""
    return f"ALMACEN_{name.upper()}"


def test_defaults_without_environment() -> None:
    settings = Settings.load(environ={})

    assert settings == Settings()
    assert settings.database_url == "sqlite:///almacen.db"
    assert settings.admin_token is None
    assert settings.blocked_plugins == ()
    assert settings.load_entrypoints is True


def test_every_field_has_an_environment_case() -> None:
    assert set(FROM_ENVIRONMENT) == {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.parametrize("name", sorted(FROM_ENVIRONMENT))
def test_field_is_read_from_its_environment_variable(name: str) -> None:
    raw, expected = FROM_ENVIRONMENT[name]

    settings = Settings.load(environ={env(name): raw})

    assert getattr(settings, name) == expected
    assert type(getattr(settings, name)) is type(expected)
    # No other field moved.
    others = {f.name for f in dataclasses.fields(Settings)} - {name}
    assert all(getattr(settings, o) == getattr(Settings(), o) for o in others)


def test_all_fields_at_once() -> None:
    environ = {env(name): raw for name, (raw, _) in FROM_ENVIRONMENT.items()}

    settings = Settings.load(environ=environ)

    assert dataclasses.asdict(settings) == {
        name: expected for name, (_, expected) in FROM_ENVIRONMENT.items()
    }


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on", "On"])
def test_true_booleans(raw: str) -> None:
    assert Settings.load(environ={"ALMACEN_TRACE_PLUGINS": raw}).trace_plugins is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", ""])
def test_false_booleans(raw: str) -> None:
    assert Settings.load(environ={"ALMACEN_LOG_JSON": raw}).log_json is False


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("trace_plugins", "maybe", "trace_plugins: 'maybe' is not a boolean"),
        ("idempotency_ttl_seconds", "ten", "idempotency_ttl_seconds: 'ten' is not an integer"),
        ("idempotency_ttl_seconds", "1.5", "is not an integer"),
        ("auth_cache_seconds", "fast", "auth_cache_seconds: 'fast' is not a number"),
    ],
)
def test_unconvertible_values_fail_at_load(name: str, raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.load(environ={env(name): raw})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", ()), (" , ,", ()), ("one", ("one",)), ("a,b", ("a", "b")), (" a , b ", ("a", "b"))],
)
def test_list_parsing(raw: str, expected: tuple[str, ...]) -> None:
    assert Settings.load(environ={"ALMACEN_BLOCKED_PLUGINS": raw}).blocked_plugins == expected


def test_config_overrides_the_environment() -> None:
    settings = Settings.load(
        {"rate_limit": "20/second"},
        environ={"ALMACEN_RATE_LIMIT": "10/second", "ALMACEN_LOG_LEVEL": "ERROR"},
    )

    assert settings.rate_limit == "20/second"
    assert settings.log_level == "ERROR"


def test_config_strings_are_converted_like_the_environment() -> None:
    settings = Settings.load(
        {"trace_plugins": "true", "idempotency_ttl_seconds": "60", "blocked_plugins": "a, b"},
        environ={},
    )

    assert settings.trace_plugins is True
    assert settings.idempotency_ttl_seconds == 60
    assert settings.blocked_plugins == ("a", "b")


def test_config_values_of_the_right_type_are_kept() -> None:
    settings = Settings.load({"auth_cache_seconds": 0.0, "blocked_plugins": ("x",)}, environ={})

    assert settings.auth_cache_seconds == 0.0
    assert settings.blocked_plugins == ("x",)


def test_unknown_config_key_is_an_error() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'ratelimit'"):
        Settings.load({"ratelimit": "10/second"}, environ={})


def test_unknown_environment_variables_are_ignored() -> None:
    # Other tools read their own ALMACEN_* variables (gunicorn's bind and workers, tests).
    settings = Settings.load(
        environ={
            "ALMACEN_BIND": "0.0.0.0:80",
            "ALMACEN_WORKERS": "4",
            "ALMACEN_TEST_DATABASE_URL": "postgresql://x",
            "DATABASE_URL": "postgresql://not-ours",
        }
    )

    assert settings == Settings()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rate_limit": "lots"}, "rate_limit 'lots'"),
        ({"rate_limit": "10 per fortnight"}, "rate_limit '10 per fortnight'"),
        ({"rate_limit_strategy": "sliding"}, "fixed-window or moving-window, not 'sliding'"),
        ({"database_url": "almacen.db"}, "database_url 'almacen.db' is not a URL"),
        ({"webhook_allowed_networks": ("10.0.0.0/33",)}, "webhook_allowed_networks"),
        ({"webhook_timeout_seconds": 0.0}, "webhook_timeout_seconds must be positive"),
    ],
)
def test_settings_that_cannot_work_fail_at_load(config: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.load(config, environ={})


def test_a_bad_rate_limit_in_the_environment_fails_at_load() -> None:
    with pytest.raises(SettingsError, match="rate_limit '1200/fortnight'"):
        Settings.load(environ={"ALMACEN_RATE_LIMIT": "1200/fortnight"})


def test_settings_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.rate_limit = "1/second"  # type: ignore[misc]


def test_load_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALMACEN_IDEMPOTENCY_TTL_SECONDS", "77")

    assert Settings.load().idempotency_ttl_seconds == 77


def test_create_app_uses_the_environment_below_its_config(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALMACEN_IDEMPOTENCY_TTL_SECONDS", "77")
    monkeypatch.setenv("ALMACEN_LOG_LEVEL", "ERROR")

    settings = gateway_of(make_app(load_entrypoints=False, log_level="WARNING")).settings

    assert settings.idempotency_ttl_seconds == 77
    assert settings.log_level == "WARNING"


def test_create_app_refuses_bad_settings(make_app: Callable[..., Any]) -> None:
    with pytest.raises(SettingsError, match="unknown setting 'admin_tokne'"):
        make_app(admin_tokne="x")
