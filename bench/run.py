"""``make bench``: serve TPM with gunicorn (2 sync workers, DEBUG off) next to two floor views
and drive both from a second process on loopback; print a Markdown report.

Usage: ``python bench/run.py [projects|work|risks|all]`` (default all). Each HTTP scenario runs
``BENCH_SECONDS`` (default 30) with 8 closed-loop clients, in ``BENCH_ROUNDS`` (default 3)
rounds interleaved with the other scenarios; medians are reported with each scenario's ratio
to its floor measured in the same run (reads to the tiny-JSON view, writes to the one-UPDATE
view) and p50 with a single client. SQL statements per request are counted in-process.
The "work" suite also times the backlog and board pages and the metric workers; the "risks"
suite times the risk recompute of 2,000 risks over 100,000 items and in-process list latency.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")

PORT = int(os.environ.get("BENCH_PORT", "8765"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CLIENTS = 8
FLOORS = [
    {"name": "floor: tiny JSON", "method": "GET", "path": "/bench/floor-json/"},
    {"name": "floor: one UPDATE", "method": "GET", "path": "/bench/floor-update/"},
]


def ensure_database() -> None:
    """Create the benchmark database on the configured server (Django's no-db connection)."""
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'tpm_bench'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE DATABASE tpm_bench")


def main() -> None:
    suite = sys.argv[1] if len(sys.argv) > 1 else "all"
    import django

    django.setup()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages need the manifest
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (id int PRIMARY KEY, n bigint NOT NULL)"
        )
        cursor.execute("INSERT INTO bench_floor VALUES (1, 0) ON CONFLICT DO NOTHING")

    from bench import risks, scenarios, work

    specs = list(FLOORS)
    token = ""
    extra: list[str] = []
    if suite in ("projects", "all"):
        token, more = scenarios.prepare()
        specs += more
    if suite in ("work", "all"):
        token, more = work.prepare()
        specs += more
        extra += work.page_timings()
        extra += work.worker_timings()
    if suite in ("risks", "all"):
        token, more = risks.prepare()
        specs += more
        extra += risks.timings()
    queries = scenarios.count_queries(specs, token)
    connection.close()

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "bench.wsgi:application",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_ready()
        results = measure(specs, token)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(report(specs, results, queries))
    for line in extra:
        print(line)


def wait_ready() -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urlopen(f"http://127.0.0.1:{PORT}/bench/floor-json/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not come up")


def load(spec: dict, token: str, clients: int, seconds: float) -> dict:
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        **spec.get("headers", {}),
    }
    payload = {
        "method": spec["method"],
        "path": spec.get("path"),
        "paths": spec.get("paths"),
        "headers": headers,
        "body": spec.get("body"),
        "toggle": spec.get("toggle"),
        "versioned": spec.get("versioned", False),
        "clients": clients,
        "seconds": seconds,
        "host": "127.0.0.1",
        "port": PORT,
    }
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", json.dumps(payload)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def measure(specs: list[dict], token: str) -> dict[str, dict]:
    rounds: dict[str, list[dict]] = {spec["name"]: [] for spec in specs}
    for spec in specs:  # warm-up
        load(spec, token, CLIENTS, 2)
    for _ in range(ROUNDS):
        for spec in specs:
            rounds[spec["name"]].append(load(spec, token, CLIENTS, SECONDS))
    results = {}
    for spec in specs:
        runs = rounds[spec["name"]]
        single = load(spec, token, 1, min(SECONDS, 5))
        results[spec["name"]] = {
            key: statistics.median(run[key] for run in runs)
            for key in ("rps", "p50_ms", "p95_ms", "p99_ms")
        } | {"errors": sum(run["errors"] for run in runs), "p50_1_ms": single["p50_ms"]}
    return results


def report(specs: list[dict], results: dict[str, dict], queries: dict[str, int]) -> str:
    lines = [
        f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d')}; gunicorn 2 sync workers, DEBUG off; "
        f"{CLIENTS} closed-loop clients, {ROUNDS} rounds × {SECONDS:g} s, medians.",
        "",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | p50 ms (1 client) | SQL/req | vs floor "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for spec in specs:
        r = results[spec["name"]]
        floor = results[spec["floor"]]["rps"] if spec.get("floor") else None
        ratio = f"1/{floor / r['rps']:.1f}" if floor and r["rps"] else "—"
        lines.append(
            f"| {spec['name']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['p50_1_ms']:.1f} | {queries.get(spec['name'], 0)} | {ratio} | "
            f"{r['errors']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
