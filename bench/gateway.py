"""Gateway overhead benchmark: the Almacén production path against bare connexion and Flask.

One command, ``python bench/gateway.py``, starts three servers on 127.0.0.1, one at a time,
and drives each with the same ``wrk`` load:

1. ``almacen``: gunicorn + 2 uvicorn workers serving ``almacen.gateway.create_app`` with the
   tiny module plugin, PostgreSQL, rate limits in Redis, JSON logging and metrics on. The
   request is an authenticated, entitled, rate-limited ``GET /v1/tiny/items/1``.
2. ``connexion``: the same spec and handler in a bare ``connexion.FlaskApp``, same gunicorn.
3. ``flask``: the same API written by hand in Flask, gunicorn with 2 gthread workers.

It prints requests/s, p50 and p99 latency for each, the ratios the gateway is judged by, and
the versions of everything involved. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
PATH = "/v1/tiny/items/1"
EXPECTED = {"id": "1", "name": "item 1"}
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DB = "almacen_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"
RATE_LIMIT = "10000000/minute"
SERVERS = ("almacen", "connexion", "flask")
VERSIONED = (
    "almacen",
    "connexion",
    "flask",
    "werkzeug",
    "starlette",
    "a2wsgi",
    "uvicorn",
    "uvloop",
    "httptools",
    "gunicorn",
    "sqlalchemy",
    "psycopg",
    "psycopg-binary",
    "redis",
    "limits",
    "jsonschema",
    "prometheus-client",
)

sys.path.insert(0, str(BENCH_DIR))


@dataclasses.dataclass(frozen=True)
class WrkResult:
    """What one ``wrk --latency`` run reports."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    #: CPU seconds the server's processes (master and workers) used per request, in ms.
    cpu_ms_per_request: float = 0.0
    #: Share of the machine's CPU used by processes other than the server and wrk.
    other_load: float = 0.0
    #: The busiest worker's share of the workers' CPU: 0.5 is an even split of the load.
    busiest_worker: float = 0.0


@dataclasses.dataclass
class Server:
    """A gunicorn command for one of the three apps."""

    name: str
    description: str
    app: str
    gunicorn_args: list[str]
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    authenticated: bool = False


# -- small helpers -------------------------------------------------------------------------


def say(message: str) -> None:
    """Progress on stderr, so that stdout holds only the report."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def open_gateway():  # type: ignore[no-untyped-def]
    """The gateway (all installed plugins) on the bench database, as the server sees it."""
    from almacen.gateway import create_app
    from almacen.gateway.app import gateway_of

    config = {
        name.removeprefix("ALMACEN_").lower(): value
        for name, value in gateway_config(entrypoints=True).items()
    }
    return gateway_of(create_app(config))


def wrk_run(
    wrk: str,
    args: argparse.Namespace,
    url: str,
    seconds: int,
    script: Path | None,
    tag: str = "",
) -> str:
    """One bounded wrk run; with ``script``, ``tag`` is passed to it."""
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"]
    command += ["--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script), url, "--", tag]
    else:
        command.append(url)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return done.stdout


def add_load_options(parser: argparse.ArgumentParser, *, connections: int = 32) -> None:
    """wrk's settings, named and defaulted alike in every HTTP benchmark."""
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load")
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")


def lua_status_check(status: int) -> str:
    """Lua ``response`` and ``done`` functions, appended to a script whose ``setup`` keeps
    each thread in ``threads``: they count the answers whose status is not ``status`` (wrk
    itself counts only those outside 2xx and 3xx) and print the sum for :func:`drive`."""
    return f"""
function response(status, headers, body)
  if status ~= {status} then
    unexpected = (unexpected or 0) + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("unexpected") or 0)
  end
  io.write(string.format("Not {status}: %d\\n", total))
end
"""


def drive(
    wrk: str,
    args: argparse.Namespace,
    url: str,
    label: str,
    script: Path | None = None,
    *,
    status: int | None = None,
) -> WrkResult:
    """A warm-up run, then the measured one (``script`` gets ``warmup``, then ``measured``).

    :param status: the status every answer must have, counted by :func:`lua_status_check`
        in ``script``; without it, any 2xx will do.
    :raises RuntimeError: when an answer was not as expected or a socket failed.
    """
    say(f"{label}: {args.warmup}s warm-up, {args.duration}s measured")
    wrk_run(wrk, args, url, args.warmup, script, "warmup")
    output = wrk_run(wrk, args, url, args.duration, script, "measured")
    result = parse_wrk(output)
    wrong = result.non_2xx
    if status is not None:
        counted = re.search(rf"^Not {status}: (\d+)$", output, re.MULTILINE)
        wrong = int(counted.group(1)) if counted else -1
    if wrong or result.socket_errors:
        expected = status or "2xx"
        raise RuntimeError(
            f"{label}: {wrong} answers not {expected}, {result.socket_errors} socket "
            f"errors:\n{output}"
        )
    return result


def gateway_server(name: str, *options: str) -> Server:
    """The gateway as deployed, for a module's benchmark: gunicorn with 2 uvicorn workers,
    every installed plugin, the bench database, rate limits in Redis, JSON logs."""
    config = str(files("almacen.gateway") / "gunicorn.conf.py")
    return Server(
        name,
        "gateway: gunicorn, 2 uvicorn workers, PG, Redis limits, JSON logs, installed plugins",
        "almacen.gateway.asgi:app",
        ["-c", config, "--workers", "2", "--max-requests", "0", *options],
        env=gateway_config(entrypoints=True),
        authenticated=True,
    )


def post_json(
    port: int, key: str, path: str, body: object, timeout: float = 120
) -> tuple[int, Any]:
    """One POST through http.client; the status and the decoded answer."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        text = response.read()
    finally:
        connection.close()
    return response.status, json.loads(text)


def verdict(held: bool) -> str:
    """How a goal's line ends."""
    return "met" if held else "NOT met"


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
    """One GET on the loopback (http.client: no proxy environment can redirect it)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def ensure_wrk() -> str:
    """The path of ``wrk``, installed with apt-get when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed; run: sudo apt-get install -y wrk")
    for command in (
        ["apt-get", "install", "-y", "wrk"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "wrk"],
    ):
        say("wrk missing: running " + " ".join(command))
        subprocess.run(
            command,
            check=False,
            timeout=600,
            stdout=sys.stderr,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("could not install wrk with apt-get")


_TIME = re.compile(r"([\d.]+)(us|ms|s|m|h)\b")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, p50, p99 and error counts from ``wrk --latency`` output."""
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", output, re.M))
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if rate is None or total is None or set(percentiles) != {"50", "99"}:
        raise ValueError("unexpected wrk output:\n" + output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run_wrk(wrk: str, args: argparse.Namespace, port: int, key: str, seconds: int) -> str:
    """One bounded wrk run against ``PATH``; every server gets the same request bytes."""
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        f"X-API-Key: {key}",
        f"http://{HOST}:{port}{PATH}",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return done.stdout


# -- CPU accounting: on a shared machine, CPU per request is steadier than requests/s ------


_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> dict[int, float]:
    """User and system CPU seconds of each live process of a process group, by pid."""
    seconds = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = text.rpartition(")")[2].split()
        if int(fields[2]) == pgid:
            seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return seconds


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq + steal
    return busy / _TICKS, (busy + idle + iowait) / _TICKS


def children_cpu_seconds() -> float:
    """CPU seconds of the children this process has waited for (wrk, once it exits)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the database, tenant and key ----------------------------------------------------------


def gateway_config(*, entrypoints: bool = False) -> dict[str, str]:
    """The gateway's settings, as ALMACEN_* environment variables.

    :param entrypoints: also mount the plugins installed in the environment; off by default,
        so that the figures do not move when a plugin is installed.
    """
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL).set(database=BENCH_DB).render_as_string(hide_password=False)
    return {
        "ALMACEN_DATABASE_URL": url,
        "ALMACEN_RATE_LIMIT_STORAGE": REDIS_URL,
        "ALMACEN_RATE_LIMIT": RATE_LIMIT,
        "ALMACEN_LOG_LEVEL": "INFO",
        "ALMACEN_LOG_JSON": "true",
        "ALMACEN_LOAD_ENTRYPOINTS": "true" if entrypoints else "false",
        # Production runs event delivery in `almacen worker` processes (bench/outbox.py
        # measures it); the gateway's own figures leave it out.
        "ALMACEN_DELIVERY": "worker",
    }


def _admin_sql(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def create_database(*, entrypoints: bool = False) -> str:
    """Create and migrate the bench database; a tenant subscribed to ``tiny``; its key."""
    import tinymodule

    from almacen.gateway import create_app, migrate
    from almacen.gateway.app import gateway_of
    from almacen.gateway.tenancy import service

    _admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    _admin_sql(f'CREATE DATABASE "{BENCH_DB}"')
    config = {
        name.removeprefix("ALMACEN_").lower(): value
        for name, value in gateway_config(entrypoints=entrypoints).items()
    }
    gateway = gateway_of(create_app(config, plugins=[("tiny", tinymodule)]))
    try:
        migrate.upgrade(gateway.db.engine, gateway.registry.modules.values())
        with gateway.db.transaction() as session:
            tenant = service.create_tenant(session, slug="bench", name="Benchmark")
            tenant_id = tenant.id
        with gateway.db.transaction(tenant_id=tenant_id) as session:
            service.subscribe(session, module=gateway.registry.modules["tiny"], config={})
            _, secret = service.create_api_key(session, tenant=tenant, name="bench")
    finally:
        gateway.db.dispose()
    return secret


def drop_database() -> None:
    """Drop the bench database (connections of dead workers included)."""
    _admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


@contextlib.contextmanager
def bench_database(name: str) -> Iterator[Any]:
    """A new PostgreSQL database ``name`` for a module's benchmark, migrated, and the
    gateway opened on it (:func:`open_gateway`); dropped at the end, whatever happened.

    The servers started meanwhile read its name through :func:`gateway_config`.
    """
    from almacen.gateway import migrate

    global BENCH_DB
    BENCH_DB = name
    try:
        say(f"creating and migrating database {name}")
        drop_database()
        _admin_sql(f'CREATE DATABASE "{name}"')
        bench = open_gateway()
        try:
            migrate.upgrade(bench.db.engine, bench.registry.modules.values())
            yield bench
        finally:
            bench.db.dispose()
    finally:
        say(f"dropping database {name}")
        try:
            drop_database()
        except Exception as exc:
            say(f"could not drop {name}: {exc}")


# -- servers -------------------------------------------------------------------------------


def servers(args: argparse.Namespace) -> list[Server]:
    """The three servers; gunicorn settings shared through the gateway's own config file."""
    config = str(files("almacen.gateway") / "gunicorn.conf.py")
    # The production config (uvicorn workers, keep-alive 5 s); --max-requests 0 so that no
    # worker recycles (and rebuilds its app) inside a measurement window.
    common = ["-c", config, "--workers", "2", "--max-requests", "0", "--pythonpath", str(BENCH_DIR)]
    flask_args = ["-k", args.flask_worker]
    if args.flask_worker == "gthread":
        flask_args += ["--threads", str(args.flask_threads)]
    return [
        Server(
            "almacen",
            "gateway: gunicorn, 2 uvicorn workers, PG, Redis limits, JSON logs",
            "_almacen_app:app",
            common,
            env=gateway_config(entrypoints=args.entrypoints),
            authenticated=True,
        ),
        Server(
            "connexion",
            "bare connexion.FlaskApp: gunicorn, 2 uvicorn workers",
            "_connexion_app:app",
            common,
        ),
        Server(
            "flask",
            f"plain Flask: gunicorn, 2 {args.flask_worker} workers"
            + (f" x {args.flask_threads} threads" if args.flask_worker == "gthread" else ""),
            "_flask_app:app",
            [*common, *flask_args],
        ),
    ]


@contextlib.contextmanager
def running(server: Server, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start gunicorn in its own process group; always stop the whole group afterwards."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        *server.gunicorn_args,
        "--bind",
        f"{HOST}:{port}",
        server.app,
    ]
    env = {**os.environ, **server.env, "ALMACEN_BIND": f"{HOST}:{port}", "ALMACEN_WORKERS": "2"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            cwd=BENCH_DIR,
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    # Workers could outlive a master killed hard; the group id is still theirs.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until both workers answer, for at most 60 s."""
    deadline = time.monotonic() + 60
    answered = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()}")
        try:
            http_get(port, PATH, {})
            answered += 1
            if answered >= 4:  # both workers booted, very likely; warm-up covers the rest
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer in 60 s:\n{log.read_text()}")


def verify(server: Server, port: int, key: str) -> None:
    """200 with the expected JSON; for the gateway also 401 without the key."""
    status, content_type, body = http_get(port, PATH, {"X-API-Key": key})
    if status != 200 or json.loads(body) != EXPECTED or "json" not in content_type:
        raise RuntimeError(f"{server.name}: unexpected answer {status} {content_type} {body!r}")
    if server.authenticated:
        status, content_type, body = http_get(port, PATH, {})
        if status != 401 or "problem+json" not in content_type:
            raise RuntimeError(f"{server.name}: without a key, got {status} {body!r}")
        wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
        status, _, body = http_get(port, PATH, {"X-API-Key": wrong})
        if status != 401:
            raise RuntimeError(f"{server.name}: with a wrong key, got {status} {body!r}")
        say(f"{server.name}: 200 with the key, 401 without it and with a wrong one")
    else:
        say(f"{server.name}: 200 {body.decode()}")


def load(
    server: Server,
    args: argparse.Namespace,
    wrk: str,
    key: str,
    process: subprocess.Popen[bytes],
    port: int,
) -> WrkResult:
    """One measured wrk run, with the CPU the server, wrk and everything else used."""
    say(f"{server.name}: {args.duration}s of wrk -t{args.threads} -c{args.connections}")
    server_before = group_cpu_seconds(process.pid)
    wrk_before = children_cpu_seconds()
    busy_before, total_before = machine_cpu_seconds()
    output = run_wrk(wrk, args, port, key, args.duration)
    busy_after, total_after = machine_cpu_seconds()
    server_after = group_cpu_seconds(process.pid)
    wrk_cpu = children_cpu_seconds() - wrk_before
    result = parse_wrk(output)
    if result.non_2xx or result.socket_errors:
        raise RuntimeError(
            f"{server.name}: {result.non_2xx} non-2xx responses, "
            f"{result.socket_errors} socket errors:\n{output}"
        )
    used = {pid: cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items()}
    workers = [cpu for pid, cpu in used.items() if pid != process.pid]
    server_cpu = sum(used.values())
    other = (busy_after - busy_before) - server_cpu - wrk_cpu
    return dataclasses.replace(
        result,
        cpu_ms_per_request=1000 * server_cpu / max(result.requests, 1),
        other_load=max(0.0, other / max(total_after - total_before, 1e-9)),
        busiest_worker=max(workers) / sum(workers) if sum(workers) > 0 else 1.0,
    )


def measure(
    server: Server, args: argparse.Namespace, wrk: str, key: str, workdir: Path
) -> tuple[WrkResult, str]:
    """Start, verify, warm up, load, stop; the result and a note for the report.

    wrk opens its connections at once and keeps them; a worker that is slower to accept can
    be left with few of them, or none, and then one core serves the load. Such a run (the
    busiest worker did more than ``--balance`` of the work) is discarded and the load run
    again on new connections, at most ``--attempts`` times.
    """
    port = free_port()
    log = workdir / f"{server.name}.log"
    say(f"{server.name}: starting on {HOST}:{port} ({server.description})")
    with running(server, port, log) as process:
        wait_ready(process, port, log)
        verify(server, port, key)
        run_wrk(wrk, args, port, key, args.warmup)
        for attempt in range(1, args.attempts + 1):
            result = load(server, args, wrk, key, process, port)
            if process.poll() is not None:
                raise RuntimeError(f"{server.name} died under load:\n{log.read_text()}")
            if result.busiest_worker <= args.balance:
                break
            say(
                f"{server.name}: one worker did {result.busiest_worker:.0%} of the work "
                f"(attempt {attempt} of {args.attempts})"
                + ("; loading again on new connections" if attempt < args.attempts else "")
            )
    note = ""
    if server.authenticated:
        text = log.read_text(errors="replace")
        access = text.count('"logger": "almacen.access"')
        note = f"{access} JSON access-log lines written"
    say(
        f"{server.name}: {result.requests_per_s:.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, {result.cpu_ms_per_request:.3f} CPU ms/req, "
        f"other load {result.other_load:.0%}, busiest worker {result.busiest_worker:.0%} "
        f"{note}"
    )
    return result, note


# -- report --------------------------------------------------------------------------------


def versions(wrk: str) -> list[str]:
    """Python, the packages on the request path, wrk, PostgreSQL and Redis."""
    from importlib.metadata import PackageNotFoundError, version

    lines = [
        f"python {platform.python_version()} ({platform.python_implementation()}) "
        f"on {platform.system()} {platform.release()}, {os.cpu_count()} CPUs"
    ]
    found = []
    for name in VERSIONED:
        with contextlib.suppress(PackageNotFoundError):
            found.append(f"{name} {version(name)}")
    lines.append(", ".join(found))
    probe = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    lines.append((probe.stdout or probe.stderr).splitlines()[0])
    with contextlib.suppress(Exception):
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            lines.append(str(connection.execute(text("SHOW server_version")).scalar()))
        engine.dispose()
        lines[-1] = "postgresql " + lines[-1]
    with contextlib.suppress(Exception):
        import redis

        info = redis.Redis.from_url(REDIS_URL).info("server")
        lines.append(f"redis-server {info['redis_version']}")
    return lines


def ratio(numerator: float | None, denominator: float | None) -> str:
    """``a/b`` to two decimals, or ``-`` when a side was not measured."""
    if numerator is None or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}"


def summarize(runs: Sequence[WrkResult]) -> WrkResult:
    """The median of each figure over a server's rounds."""
    return WrkResult(
        requests_per_s=statistics.median(r.requests_per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        requests=sum(r.requests for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        cpu_ms_per_request=statistics.median(r.cpu_ms_per_request for r in runs),
        other_load=max(r.other_load for r in runs),
        busiest_worker=max(r.busiest_worker for r in runs),
    )


def report(
    results: dict[str, list[WrkResult]],
    notes: dict[str, str],
    described: dict[str, str],
    args: argparse.Namespace,
    wrk: str,
) -> bool:
    """Print the table, the ratios and the acceptance verdict; True when it is met."""
    print("Versions")
    for line in versions(wrk):
        print(f"  {line}")
    print(
        f"\nLoad: wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"after a {args.warmup}s warm-up, GET {PATH}, {args.rounds} round(s) per server, "
        "interleaved (medians shown)\n"
    )
    print(
        f"{'server':<10} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} "
        f"{'other load':>10} {'worker':>6}  config"
    )
    median: dict[str, WrkResult] = {}
    for name in SERVERS:
        runs = results.get(name)
        if not runs:
            continue
        row = median[name] = summarize(runs)
        print(
            f"{name:<10} {row.requests_per_s:>8.0f} {row.p50_ms:>7.2f} {row.p99_ms:>7.2f} "
            f"{row.cpu_ms_per_request:>10.3f} {row.other_load:>10.0%} "
            f"{row.busiest_worker:>6.0%}  {described[name]}"
        )
        if len(runs) > 1:
            each = ", ".join(f"{r.requests_per_s:.0f}" for r in runs)
            print(f"{'':<10} rounds: {each} req/s")
    print(
        "\nCPU ms/req: CPU time of the server's processes over requests served (steadier "
        "than req/s\non a shared machine). other load: CPU used meanwhile by processes "
        "other than the server\nand wrk, as a share of the machine (worst round). worker: "
        "the busiest worker's share\nof the workers' CPU, 50% being an even split "
        "(worst round)."
    )
    if notes.get("almacen"):
        print(f"almacen: {notes['almacen']} (logging really on)")

    def rate(name: str) -> float | None:
        return median[name].requests_per_s if name in median else None

    def cpu(name: str) -> float | None:
        return median[name].cpu_ms_per_request if name in median else None

    print("\nRatios                     req/s   CPU-normalised (inverse CPU ms/req)")
    for label, top, bottom, target in (
        ("almacen / bare connexion", "almacen", "connexion", "acceptance >= 0.70"),
        ("almacen / plain flask", "almacen", "flask", "goal >= 0.60"),
        ("connexion / plain flask", "connexion", "flask", ""),
    ):
        print(
            f"  {label:<24} {ratio(rate(top), rate(bottom)):>6}   "
            f"{ratio(cpu(bottom), cpu(top)):>6}   {target}"
        )
    if "almacen" not in median:
        return True
    tail = median["almacen"].p99_ms / median["almacen"].p50_ms
    print(f"  {'almacen p99 / p50':<24} {tail:>6.2f}            acceptance < 4")
    if max(r.other_load for r in median.values()) > 0.10:
        print(
            "\nWARNING: other processes used more than 10% of the machine during a run; "
            "req/s and\nlatency ratios are unreliable, prefer the CPU-normalised ratios "
            "and run again later."
        )
    if "connexion" not in median:
        return True
    vs_connexion = median["almacen"].requests_per_s / median["connexion"].requests_per_s
    accepted = vs_connexion >= 0.70 and tail < 4
    goal_text = "-"
    if "flask" in median:
        met = median["almacen"].requests_per_s / median["flask"].requests_per_s >= 0.6
        goal_text = "met" if met else "NOT met"
    print(
        f"\nAcceptance (req/s >= 0.70 x bare connexion and p99 < 4 x p50): "
        f"{'PASS' if accepted else 'FAIL'}; goal (req/s >= 0.6 x plain Flask): {goal_text}"
    )
    return accepted


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults are the benchmark of record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_options(parser)
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs per server, interleaved; the median is reported"
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated subset of " + ", ".join(SERVERS),
    )
    parser.add_argument("--flask-worker", default="gthread", choices=("gthread", "sync"))
    parser.add_argument("--flask-threads", type=int, default=4)
    parser.add_argument(
        "--balance",
        type=float,
        default=0.7,
        help="largest share of the work one worker may do before a run is repeated",
    )
    parser.add_argument("--attempts", type=int, default=3, help="runs tried per measurement")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the acceptance does not hold"
    )
    parser.add_argument(
        "--entrypoints",
        action="store_true",
        help="also mount the almacen.plugins entry points installed here",
    )
    parser.add_argument(
        "--keep-logs", type=Path, default=None, help="copy the servers' logs to this folder"
    )
    args = parser.parse_args(argv)
    args.selected = [name for name in args.servers.split(",") if name]
    unknown = set(args.selected) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; with ``--check``, exit 1 when the acceptance does not hold."""
    args = parse_args(argv)
    wrk = ensure_wrk()
    results: dict[str, list[WrkResult]] = {}
    notes: dict[str, str] = {}
    chosen = [s for s in servers(args) if s.name in args.selected]
    described = {s.name: s.description for s in chosen}
    created = False
    with tempfile.TemporaryDirectory(prefix="almacen-bench-") as tmp:
        workdir = Path(tmp)
        try:
            say(f"creating database {BENCH_DB}, tenant, subscription to 'tiny' and API key")
            created = True
            key = create_database(entrypoints=args.entrypoints)
            for _ in range(args.rounds):
                for server in chosen:
                    result, note = measure(server, args, wrk, key, workdir)
                    results.setdefault(server.name, []).append(result)
                    notes[server.name] = note or notes.get(server.name, "")
        finally:
            if args.keep_logs is not None:
                args.keep_logs.mkdir(parents=True, exist_ok=True)
                for log in workdir.glob("*.log"):
                    shutil.copy(log, args.keep_logs / log.name)
            if created:
                say(f"dropping database {BENCH_DB}")
                try:
                    drop_database()
                except Exception as exc:
                    say(f"could not drop {BENCH_DB}: {exc}")
    accepted = report(results, notes, described, args, wrk)
    return 1 if args.check and not accepted else 0


if __name__ == "__main__":
    raise SystemExit(main())
