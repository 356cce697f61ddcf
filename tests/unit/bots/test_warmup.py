"""When and how a process warms the bots' understanding before its first turn."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from almacen.modules.bots import warmup


@pytest.mark.parametrize(
    ("env", "server", "expected"),
    [
        (None, None, "background"),
        (None, "gunicorn/23.0.0", "sync"),
        ("off", "gunicorn/23.0.0", "off"),
        ("SYNC", None, "sync"),
        ("background", "gunicorn/23.0.0", "background"),
        ("nonsense", None, "background"),
    ],
)
def test_mode(
    env: str | None, server: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("ALMACEN_BOTS_WARM", env), ("SERVER_SOFTWARE", server)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert warmup.mode() == expected


def _registry(calls: list[str]) -> Any:
    return SimpleNamespace(hook=SimpleNamespace(almacen_bots_intents=lambda: calls.append("x")))


def test_sync_warms_before_returning_and_background_in_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warmed: list[Any] = []
    monkeypatch.setattr(warmup, "warm", warmed.append)
    registry = _registry([])
    monkeypatch.setenv("ALMACEN_BOTS_WARM", "sync")
    assert warmup.warm_app(registry) is None and warmed == [registry]
    monkeypatch.setenv("ALMACEN_BOTS_WARM", "background")
    thread = warmup.warm_app(registry)
    assert thread is not None and thread.daemon
    thread.join(10)
    assert warmed == [registry, registry]
    monkeypatch.setenv("ALMACEN_BOTS_WARM", "off")
    assert warmup.warm_app(registry) is None and len(warmed) == 2


def test_a_failed_warm_up_does_not_stop_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: Any) -> None:
        raise RuntimeError("no encoder today")

    monkeypatch.setattr(warmup, "warm", broken)
    monkeypatch.setenv("ALMACEN_BOTS_WARM", "sync")
    assert warmup.warm_app(_registry([])) is None


def test_warm_leaves_the_shared_classifier_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    from almacen.modules.bots import classifiers

    warmup.warm(SimpleNamespace(hook=SimpleNamespace()))  # no plugin hook: shipped intents
    ready = classifiers.base_classifier(())
    assert ready.predict("ya pagué")[0][0] == "already_paid"
