"""`pip install` into a fresh venv outside the repository gives a working ``almacen``.

Wheels are built from this checkout and installed without dependencies into a new venv that
borrows the running environment's third-party packages through a ``.pth`` line (``.pth``
files *inside* a borrowed folder are not executed, so the editable checkout stays out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CALENDAR = REPO / "plugins" / "almacen-calendar"
GBM = REPO / "plugins" / "almacen-gbm"
PAYLINK = REPO / "plugins" / "almacen-paylink"
STEPUP = REPO / "plugins" / "almacen-stepup"
APPRISE = REPO / "plugins" / "almacen-apprise"

pytestmark = pytest.mark.once


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fresh")
    wheels = root / "wheels"
    for project in (REPO, CALENDAR, GBM, PAYLINK, STEPUP, APPRISE):
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
            cwd=root,
        )
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / "bin"
    python = bin_dir / "python"
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root
        ).strip()
    )
    # Third-party dependencies come from the running environment.
    (site / "_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    almacen_wheel = next(wheels.glob("almacen-*.whl"))
    install(python, almacen_wheel, cwd=root)
    work = root / "elsewhere"
    work.mkdir()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "ALMACEN_DATABASE_URL": f"sqlite:///{work / 'almacen.db'}",
        "HOME": str(work),
    }
    return {"root": root, "site": site, "bin": bin_dir, "work": work, "wheels": wheels, "env": env}  # type: ignore[dict-item]


def install(python: Path, wheel: Path, *, cwd: Path) -> None:
    """Install a wheel into the venv of ``python`` with this environment's pip."""
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        wheel,
        cwd=cwd,
    )


def almacen(installed: dict, *args: str) -> str:
    """Run the venv's ``almacen`` console script outside the repository."""
    return run(installed["bin"] / "almacen", *args, cwd=installed["work"], env=installed["env"])


def test_installs_only_the_almacen_package(installed: dict) -> None:
    site: Path = installed["site"]
    assert (site / "almacen" / "gateway" / "app.py").is_file()
    assert (site / "almacen" / "openapi" / "gateway.yaml").is_file()
    assert (site / "almacen" / "openapi" / "components.yaml").is_file()
    assert (
        site / "almacen" / "gateway" / "migrations" / "versions" / "gw0001_gateway.py"
    ).is_file()
    assert (site / "almacen" / "gateway" / "gunicorn.conf.py").is_file()
    assert (site / "almacen" / "py.typed").is_file()
    for generic in ("gateway", "modules", "openapi", "plugins", "tests"):
        assert not (site / generic).exists(), f"{generic} installed at the top level"


def test_the_installed_code_is_imported_not_the_checkout(installed: dict) -> None:
    where = run(
        installed["bin"] / "python",
        "-c",
        "import almacen.gateway; print(almacen.gateway.__file__)",
        cwd=installed["work"],
        env=installed["env"],
    )
    assert where.startswith(str(installed["site"]))


def test_cli_help_and_database(installed: dict) -> None:
    assert "serve" in almacen(installed, "--help")
    assert "database at head" in almacen(installed, "db", "upgrade")
    assert "acme" in almacen(installed, "tenants", "create", "acme")


def test_plugins_lists_the_example_plugin_once_installed(installed: dict) -> None:
    before = json.loads(almacen(installed, "plugins", "--json"))
    # The built-in modules come with the package, through the same entry-point group.
    assert "ledger" in {m["name"] for m in before["modules"]}
    assert "calendar" not in {m["name"] for m in before["modules"]}
    calendar_wheel = next(installed["wheels"].glob("almacen_calendar-*.whl"))
    install(installed["bin"] / "python", calendar_wheel, cwd=installed["root"])
    # The borrowed environment shows every example plugin's metadata (editable installs),
    # not its code: install the other example plugin too, so none fails to import.
    for name in ("gbm", "paylink", "stepup", "apprise"):
        wheel = next(installed["wheels"].glob(f"almacen_{name}-*.whl"))
        install(installed["bin"] / "python", wheel, cwd=installed["root"])
    report = json.loads(almacen(installed, "plugins", "--json"))
    modules = {m["name"]: m for m in report["modules"]}
    assert "calendar" in modules, report
    assert modules["calendar"]["plugin"] == "calendar"
    assert report["failures"] == []
    text = almacen(installed, "plugins")
    assert "calendar" in text
