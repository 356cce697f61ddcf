"""The example plugin ``plugins/almacen-apprise``: its wheel declares the entry point and the
pinned dependency, it loads from a fresh environment, and it sends through Apprise to a real
JSON endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from almacen.gateway.app import gateway_of
from almacen.modules.notifications.channels import OutboundMessage, provider_for
from tests.common.actors import Admin, assert_problem
from tests.common.receiver import Receiver

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugins" / "almacen-apprise"
BASE = "/v1/notifications"


def run(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def apprise_plugin() -> Iterator[Any]:
    """The plugin's package imported from its source tree (as an editable install would)."""
    sys.path.insert(0, str(PLUGIN / "src"))
    try:
        import almacen_apprise

        yield almacen_apprise
    finally:
        sys.path.remove(str(PLUGIN / "src"))


@pytest.fixture(scope="module")
def apprise_app(make_app: Callable[..., Any], apprise_plugin: Any) -> Any:
    return make_app(plugins=[("apprise", apprise_plugin)])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


def test_apprise_channel_sends_to_a_real_endpoint(
    apprise_app: Any, admin: Admin, receiver: Receiver
) -> None:
    client = apprise_app.test_client()
    tenant = Admin(client, admin.headers["X-API-Key"]).new_tenant(modules=["notifications"])
    names = {p["name"] for p in tenant.get(f"{BASE}/channels").json()["providers"]}
    assert {"apprise", "apprise_telegram"} <= names
    port = receiver.server.server_address[1]
    url = f"json://127.0.0.1:{port}/inbox/{{to}}"
    bad = tenant.put(
        f"{BASE}/channels/apprise", json={"provider": "apprise", "credentials": {"url": "nope://x"}}
    )
    assert assert_problem(bad, 422)["errors"][0]["pointer"] == "/credentials/url"
    document = {"provider": "apprise", "credentials": {"url": url, "title_prefix": "Acme"}}
    stored = tenant.put(f"{BASE}/channels/apprise", json=document)
    assert stored.status_code == 201, stored.text
    assert stored.json()["settings"] == {"title_prefix": "Acme"}
    assert str(port) not in stored.text  # the URL is secret
    message = OutboundMessage(
        message_id="m-77",
        channel="apprise",
        to="debtor 7",
        subject="Recordatorio",
        text="Su cuota vence mañana",
        html=None,
        headers={},
    )
    with gateway_of(apprise_app).db.session(tenant_id=tenant.id) as session:
        provider, credentials = provider_for(session, tenant.id, "apprise")
        assert provider.send(message, credentials) == "m-77"
    [received] = receiver.received
    assert received.path == "/inbox/debtor%207"
    body = json.loads(received.body)
    assert body["title"] == "Acme Recordatorio"
    assert body["message"] == "Su cuota vence mañana"


@pytest.mark.once
def test_the_wheel_declares_the_entry_point_and_loads_in_a_fresh_venv(
    tmp_path: Path,
) -> None:
    wheels = tmp_path / "wheels"
    for project in (REPO, PLUGIN):
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            wheels,
            project,
            cwd=tmp_path,
        )
    wheel = next(wheels.glob("almacen_apprise-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        entry_points = archive.read(info).decode()
        metadata = archive.read(info.replace("entry_points.txt", "METADATA")).decode()
    assert "[almacen.plugins]\napprise = almacen_apprise" in entry_points
    assert "Requires-Dist: apprise==1.9.5" in metadata
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    # Third-party packages (apprise among them) come from the running environment.
    (site / "_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for built in (next(wheels.glob("almacen-*.whl")), wheel):
        run(
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--no-deps",
            built,
            cwd=tmp_path,
        )
    loaded = run(
        python,
        "-c",
        "from importlib.metadata import entry_points\n"
        "[ep] = [e for e in entry_points(group='almacen.plugins') if e.name == 'apprise']\n"
        "plugin = ep.load()\n"
        "print(plugin.__file__)\n"
        "print(sorted(p.name for p in plugin.almacen_notifications_channels()))\n",
        cwd=tmp_path,
    ).splitlines()
    assert str(site) in loaded[0]  # the installed wheel, not the checkout
    assert loaded[1] == "['apprise', 'apprise_telegram']"
