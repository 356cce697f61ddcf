"""The ``almacen`` command, as an operator uses it: clear output, one-line errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from almacen.gateway.cli import main


@pytest.fixture
def cli(database_url: str, migrated: None, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run the command line against the worker's database; return (status, out, err)."""
    monkeypatch.setenv("ALMACEN_DATABASE_URL", database_url)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def slug() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def test_help_lists_the_commands(cli) -> None:
    status, out, _ = cli("--help")
    assert status == 0
    for command in ("serve", "demo", "db", "plugins", "tenants", "keys", "subscribe", "spec"):
        assert command in out


def test_tenant_key_and_spec_round_trip(cli, client) -> None:
    name = slug()
    status, out, _ = cli("tenants", "create", name, "--name", "CLI Tenant")
    assert status == 0 and name in out
    status, out, _ = cli("keys", "create", name)
    assert status == 0
    secret = out.strip().splitlines()[-1]
    response = client.get("/v1/me", headers={"X-API-Key": secret})
    assert response.status_code == 200
    assert response.json()["slug"] == name
    status, out, _ = cli("spec", "export", "--tenant", name)
    assert status == 0
    document = json.loads(out)
    validate(document)
    assert "/tenants" not in document["paths"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tenants", "create", "Not A Slug"), "must be lower-case"),
        (("keys", "create", "no-such-tenant"), "no tenant"),
        (("subscribe", "no-such-tenant", "calendar"), "no tenant"),
        (("tenants", "create", "x", "--rate-limit", "lots"), "not a limit"),
    ],
)
def test_errors_are_one_line_and_non_zero(cli, args, message) -> None:
    status, out, err = cli(*args)
    assert status != 0
    assert message in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_duplicate_tenant_is_an_error(cli) -> None:
    name = slug()
    assert cli("tenants", "create", name)[0] == 0
    status, _, err = cli("tenants", "create", name)
    assert status == 1
    assert err.strip() == f"error: a tenant with slug {name!r} exists"


def test_unknown_module_and_malformed_config(cli) -> None:
    name = slug()
    cli("tenants", "create", name)
    status, _, err = cli("subscribe", name, "nosuchmodule")
    assert status == 1 and "no module 'nosuchmodule'" in err
    status, _, err = cli("subscribe", name, "nosuchmodule", "--config", "{bad: [yaml")
    assert status != 0 and "Traceback" not in err


def test_bad_database_url_is_a_clear_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ALMACEN_DATABASE_URL", "not a url")
    assert main(["tenants", "list"]) == 1
    err = capsys.readouterr().err
    assert "database_url" in err and "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            return httpx.get(url, timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


@pytest.mark.once
@pytest.mark.parametrize("workers", [0, 2], ids=["uvicorn", "gunicorn"])
def test_demo_serves_docs_and_a_working_key(tmp_path: Path, workers: int) -> None:
    """What the README's `make demo` does, on a fresh SQLite file, through a real server."""
    port = _free_port()
    env = {**os.environ, "ALMACEN_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    almacen = Path(sys.executable).with_name("almacen")
    setup = subprocess.run(
        [str(almacen), "demo", "--no-serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    key = next(
        line.split(":", 1)[1].strip()
        for line in setup.stdout.splitlines()
        if "tenant API key" in line
    )
    command = [str(almacen), "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(
        command,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        docs = _wait(f"http://127.0.0.1:{port}/v1/ui/", server)
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        spec = httpx.get(f"http://127.0.0.1:{port}/v1/openapi.json", timeout=5)
        validate(spec.json())
        me = httpx.get(f"http://127.0.0.1:{port}/v1/me", headers={"X-API-Key": key}, timeout=5)
        assert me.status_code == 200, me.text
        assert me.json()["slug"] == "demo"
        assert httpx.get(f"http://127.0.0.1:{port}/v1/me", timeout=5).status_code == 401
    finally:
        os.killpg(server.pid, 15)
        server.communicate(timeout=30)
