"""Scoring benchmark: in-process batch scoring against plain numpy, a 1,000-row batch through
HTTP, and training (when ``bench/scoring_training.py`` exists).

(a) A 10-characteristic scorecard (8 numeric with 6 bins, 2 categorical with 4 groups)
scores 10,000 feature records in process, the way ``POST /score`` does (missing values,
reason codes, bands, probabilities, the result dicts), against a plain numpy evaluation of
the same points table in the same run (the same records to a matrix, ``searchsorted`` and
a points lookup per characteristic, a sum: scores only). Goal: at least half its speed,
and at least 50,000 rows/s.
(b) ``POST /v1/scoring/score`` with 1,000 records (``record: true``: the score records are
written) to gunicorn + 2 uvicorn workers on PostgreSQL, from 4 client threads. Goal: 5,000
rows/s.
(c) ``measure_training()`` of ``bench/scoring_training.py`` (100,000 rows × 20
characteristics, goal under 60 s), written by the training's owner.

Run with ``.venv/bin/python bench/scoring.py``; ``--skip-http`` for (a) and (c) only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway import (
    HOST,
    bench_database,
    free_port,
    gateway_server,
    running,
    say,
    verdict,
    wait_ready,
)

BENCH_DB = "almacen_bench_scoring"
ROWS_GOAL = 50_000.0
RATIO_GOAL = 0.5
HTTP_GOAL = 5_000.0
CATEGORIES = ("current", "1-30", "31-60", "61-90", "90+", "written-off", "legal", "other")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults are the benchmark of record."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="records per in-process batch")
    parser.add_argument("--repeat", type=int, default=30, help="in-process repetitions")
    parser.add_argument("--http-requests", type=int, default=60, help="measured HTTP batches")
    parser.add_argument("--http-rows", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=4, help="HTTP client threads")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-http", action="store_true")
    return parser.parse_args(argv)


def scorecard() -> dict[str, Any]:
    """10 characteristics: x0..x7 numeric (6 bins over 0..100), c0, c1 categorical."""
    characteristics: list[dict[str, Any]] = []
    edges = [None, 10.0, 25.0, 40.0, 60.0, 80.0, None]
    for k in range(8):
        bins = [
            {"lower": edges[j], "upper": edges[j + 1], "points": float((j * (k + 3)) % 17)}
            for j in range(6)
        ]
        characteristics.append({"name": f"x{k}", "kind": "numeric", "bins": bins})
    for k in range(2):
        groups = [list(CATEGORIES[2 * j : 2 * j + 2]) for j in range(4)]
        bins = [{"categories": g, "points": float(5 * j + k)} for j, g in enumerate(groups)]
        characteristics.append({"name": f"c{k}", "kind": "categorical", "bins": bins})
    return {
        "type": "scorecard",
        "purpose": "risk",
        "base_points": 450.0,
        "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
        "characteristics": characteristics,
        "bands": [
            {"grade": "A", "min_score": 560},
            {"grade": "B", "min_score": 530},
            {"grade": "C", "min_score": 500},
            {"grade": "D", "min_score": 470},
            {"grade": "E"},
        ],
    }


def records(rows: int, seed: int) -> list[dict[str, Any]]:
    """Feature records: uniform numbers in [0, 100), categories at random."""
    rng = np.random.default_rng(seed)
    numbers = rng.uniform(0, 100, size=(rows, 8)).round(2).tolist()
    picks = rng.integers(0, len(CATEGORIES), size=(rows, 2)).tolist()
    return [
        {**{f"x{k}": row[k] for k in range(8)}, "c0": CATEGORIES[p[0]], "c1": CATEGORIES[p[1]]}
        for row, p in zip(numbers, picks, strict=True)
    ]


def plain_numpy(document: dict[str, Any]) -> Any:
    """A hand-written numpy scorer of the same points table (scores only, no checks)."""
    numeric = [c for c in document["characteristics"] if c["kind"] == "numeric"]
    categorical = [c for c in document["characteristics"] if c["kind"] == "categorical"]
    names = [c["name"] for c in numeric]
    inner = [np.array([b["upper"] for b in c["bins"][:-1]]) for c in numeric]
    points = [np.array([b["points"] for b in c["bins"]]) for c in numeric]
    lookups = [
        {cat: b["points"] for b in c["bins"] for cat in b["categories"]} for c in categorical
    ]
    cat_names = [c["name"] for c in categorical]
    base = document["base_points"]

    def score(batch: list[dict[str, Any]]) -> Any:
        x = np.array([[r[n] for n in names] for r in batch], dtype=np.float64)
        total = np.full(len(batch), float(base))
        for k in range(len(names)):
            total += points[k][np.searchsorted(inner[k], x[:, k], side="right")]
        for name, table in zip(cat_names, lookups, strict=True):
            total += np.array([table[r[name]] for r in batch])
        return np.rint(total).astype(np.int64)

    return score


def best_rate(run: Any, batch: list[dict[str, Any]], repeat: int) -> float:
    """Rows per second of the median of ``repeat`` runs."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(batch)
        timings.append(time.perf_counter() - started)
    return len(batch) / statistics.median(timings)


def measure_in_process(args: argparse.Namespace) -> tuple[float, float, float]:
    """(engine with result dicts, engine batch arrays, plain numpy) rows/s, interleaved."""
    from almacen.modules.scoring.scorecard import SCORECARD, compile_scorecard

    document = scorecard()
    assert SCORECARD.validate(document) == []
    batch = records(args.rows, args.seed)
    baseline = plain_numpy(document)
    compiled = compile_scorecard(document)
    engine = [r["score"] for r in SCORECARD.score(document, batch, missing="bin")]
    if engine != baseline(batch).tolist():
        raise RuntimeError("the engine and the plain numpy scorer disagree")
    full: list[float] = []
    arrays: list[float] = []
    plain: list[float] = []
    for _ in range(3):  # take turns, so that neither gets the warmer machine
        full.append(
            best_rate(lambda b: SCORECARD.score(document, b, missing="bin"), batch, args.repeat)
        )
        arrays.append(
            best_rate(
                lambda b: compiled.explain(compiled.evaluate(b, missing="bin")), batch, args.repeat
            )
        )
        plain.append(best_rate(baseline, batch, args.repeat))
    return statistics.median(full), statistics.median(arrays), statistics.median(plain)


def make_tenant(bench) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A tenant subscribed to scoring with the scorecard as its risk champion; its key."""
    from almacen.gateway.tenancy import service
    from almacen.modules.scoring import registry

    with bench.db.transaction() as session:
        tenant = service.create_tenant(session, slug="bench-scoring", name="bench-scoring")
    with bench.db.transaction(tenant_id=tenant.id) as session:
        service.subscribe(session, module=bench.registry.modules["scoring"], config={})
        _, secret = service.create_api_key(session, tenant=tenant, name="bench")
    with bench.db.transaction(tenant_id=tenant.id) as session:
        model = registry.create_model(session, name="bench", document=scorecard())
        registry.activate_model(session, model.id, role="champion")
    return tenant.id, secret


def post_batch(port: int, key: str, body: bytes) -> float:
    """One scoring request; seconds it took. Raises unless 200."""
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        started = time.perf_counter()
        connection.request(
            "POST",
            "/v1/scoring/score",
            body=body,
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        text = response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"score: {response.status} {text[:500]!r}")
    return elapsed


def measure_http(args: argparse.Namespace, key: str, workdir: Path) -> tuple[float, float]:
    """(rows/s over all clients, median seconds per request)."""
    body = json.dumps(
        {
            "purpose": "risk",
            "record": True,
            "records": [{"features": f} for f in records(args.http_rows, args.seed)],
        }
    ).encode()
    server = gateway_server("scoring")
    port = free_port()
    log = workdir / "scoring.log"
    say(f"starting {server.description} on {HOST}:{port}")
    with running(server, port, log) as process:
        wait_ready(process, port, log)
        for _ in range(4):
            post_batch(port, key, body)
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            started = time.perf_counter()
            latencies = list(
                pool.map(lambda _: post_batch(port, key, body), range(args.http_requests))
            )
            elapsed = time.perf_counter() - started
        if process.poll() is not None:
            raise RuntimeError(f"server died under load:\n{log.read_text()}")
    return args.http_requests * args.http_rows / elapsed, statistics.median(latencies)


def measure_training() -> str | None:
    """The line ``bench/scoring_training.py`` reports, or None when it is not there."""
    path = Path(__file__).resolve().parent / "scoring_training.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("scoring_training", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.measure_training())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    say(f"in process: {args.rows:,} records, 10 characteristics, median of {args.repeat}")
    full, arrays, plain = measure_in_process(args)
    http: tuple[float, float] | None = None
    if not args.skip_http:
        with (
            tempfile.TemporaryDirectory(prefix="almacen-bench-scoring-") as tmp,
            bench_database(BENCH_DB) as bench,
        ):
            _, key = make_tenant(bench)
            http = measure_http(args, key, Path(tmp))
    training = measure_training()

    print(f"\nIn process: {args.rows:,} records x 10 characteristics (rows/s, median)")
    print(f"  engine, batch: scores, probabilities, bands, reasons {arrays:>10,.0f}")
    print(f"  engine, one result dict per record (the JSON body)   {full:>10,.0f}")
    print(f"  plain numpy, scores only                             {plain:>10,.0f}")
    # The goal compares batch scoring with numpy: the engine's arrays. Building one JSON
    # object per record is the API's cost and is shown beside it.
    print(
        f"  batch / plain numpy: {arrays / plain:.2f} (per-record dicts {full / plain:.2f}); "
        f"goal >= {RATIO_GOAL}: {verdict(arrays / plain >= RATIO_GOAL)}; "
        f"goal >= {ROWS_GOAL:,.0f} rows/s: {verdict(arrays >= ROWS_GOAL)}"
    )
    if http is not None:
        rate, latency = http
        print(
            f"\nHTTP: {args.http_requests} x POST /v1/scoring/score of {args.http_rows:,} records "
            f"(record: true), {args.clients} clients, gunicorn + 2 uvicorn workers, PostgreSQL"
        )
        print(f"  {rate:,.0f} rows/s, median {latency * 1000:.0f} ms a request")
        print(f"  goal >= {HTTP_GOAL:,.0f} rows/s: {verdict(rate >= HTTP_GOAL)}")
    if training is None:
        print("\ntraining: not measured")
    else:
        print(f"\n{training}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
