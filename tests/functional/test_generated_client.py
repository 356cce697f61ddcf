"""An integrator's path: generate a client from the tenant's document, then call the API.

``openapi-python-client`` builds a typed package from ``GET /v1/openapi.json``; the test
imports it and calls the gateway and a module through it, success and error alike.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.common.actors import TenantHandle

pytestmark = [pytest.mark.once, pytest.mark.modules("calendar")]


@pytest.fixture
def generated(tenant: TenantHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("almacen_calendar")
    generator = shutil.which("openapi-python-client") or str(
        Path(sys.executable).with_name("openapi-python-client")
    )
    document = tenant.get("/v1/openapi.json").json()
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(document))
    # The generator formats its output with ruff, from this environment.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "tenant_client"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module("tenant_client")


def test_generated_client_calls_the_gateway_and_a_module(
    generated, tenant: TenantHandle, app
) -> None:
    from tenant_client.api.calendar import calendar_get_custom_holiday, calendar_list_holidays
    from tenant_client.api.discovery import discovery_me
    from tenant_client.models import Problem

    client = generated.AuthenticatedClient(base_url="http://testserver/v1", token=tenant.key)
    # The generated client speaks httpx; the in-process test client is one (Starlette's).
    client.set_httpx_client(
        app.test_client(
            base_url="http://testserver/v1", headers={"Authorization": f"Bearer {tenant.key}"}
        )
    )
    me = discovery_me.sync(client=client)
    assert me.slug == tenant.slug
    assert me.modules == ["calendar"]

    holidays = calendar_list_holidays.sync(client=client, year=2026, country="CO")
    assert "2026-12-25" in {str(item.date) for item in holidays.items}

    missing = calendar_get_custom_holiday.sync(client=client, holiday_id="0" * 32)
    assert isinstance(missing, Problem)
    assert missing.status == 404
