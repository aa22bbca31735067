"""Benchmark SCIM user creation against a bare insert, in production shape.

Creates its own PostgreSQL database, migrates it, creates an entitled
organisation with a SCIM directory, then starts gunicorn and runs N concurrent
clients for a fixed time against (a) `POST /scim/v2/<directory>/Users`, each
creating a new person (request log and audit writes on), and (b) a bare
Django view that inserts one row into the same database. It prints creates
per second for both and their ratio, and what each cost per request in CPU:
the gunicorn workers', PostgreSQL's, Redis's and the clients' (from /proc),
which a busy machine disturbs less than it does the rates.

Then it fills a second directory with 100,000 directory users and checks that
`GET /Users?filter=userName eq "..."` makes the same number of SQL queries
there as on a directory of 10, and uses the userName index.

Both run for S seconds in all, in R alternating rounds of S/R seconds.

Usage: python bench/scim_create.py [--clients N] [--seconds S] [--rounds R]
       [--workers W] [--users 100000] [--target 0.6] [--port P] [--json]
Environment: DATABASE_URL names the PostgreSQL server (its database part is
replaced), BENCH_DATABASE the database to recreate (default bench_scim),
BENCH_REDIS_URL the Redis database (default redis://127.0.0.1:6379/12).
Exits 1 when the ratio is under --target or the query counts differ.
"""

import argparse
import dataclasses
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = os.environ.get("BENCH_DATABASE", "bench_scim")
SERVER_URL = os.environ.get(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


def _server_dsn(database: str) -> str:
    parts = urlsplit(SERVER_URL)
    return parts._replace(path=f"/{database}").geturl()


def load_arguments(description: str, *, port: int) -> argparse.ArgumentParser:
    """The options of a load run: clients, time, rounds, workers, port, JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--json", action="store_true")
    return parser


def parse_args(argv):
    parser = load_arguments(__doc__.splitlines()[0], port=8765)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--target", type=float, default=0.6)
    return parser.parse_args(argv)


def recreate_database(database=DATABASE):
    with psycopg.connect(_server_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")


def environment():
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_server_dsn(DATABASE),
        DJANGO_SETTINGS_MODULE="bench.scim_settings",
        SECRET_KEY="bench-" + "s3cret-key-for-the-benchmark-only-" * 2,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production shape: tasks are queued in Redis, not run in the request.
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
        CACHE_KEY_PREFIX="bench-scim",
        # Backends that last the whole run keep PostgreSQL's CPU figure whole:
        # one that exits takes its CPU time out of the sum.
        DATABASE_CONN_MAX_AGE="3600",
        PYTHONPATH=str(ROOT),
    )
    return env


def setup_django():
    os.environ.update(environment())
    import django

    django.setup()


def prepare():
    """Migrate, then create the organisation, its plan and two directories."""
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
        env=environment(),
        check=True,
    )
    setup_django()
    from django.db import connection

    from bench.bare_insert import TABLE_CREATE
    from billing.services.subscriptions import subscription_set
    from directory.services import directory_create
    from progression.services.organizations import organization_create

    with connection.cursor() as cursor:
        cursor.execute(TABLE_CREATE)
    organization = organization_create(name="Bench", slug="bench")
    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    writes, token = directory_create(
        organization=organization, provider="okta-scim-v2", actor="operator"
    )
    return organization, writes, token


def gunicorn(
    port,
    workers,
    application="bench.scim_wsgi:application",
    env=None,
    probe="/signin/",
    cwd=ROOT,
):
    """Start gunicorn serving `application` from `cwd`; return once `probe`
    answers."""
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            application,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env or environment(),
        cwd=cwd,
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", probe)
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not start")


@dataclasses.dataclass
class Side:
    """One side of one round: its rate, its failures, and what it cost."""

    per_second: float
    errors: int
    requests: int
    # CPU seconds spent meanwhile, by kind of process (see `cpu_seconds`).
    cpu: dict[str, float]


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(server_pid: int | None) -> dict[str, float]:
    """CPU time used so far by the gunicorn workers (children of `server_pid`),
    PostgreSQL's processes, Redis and this process (the clients), from /proc.

    PostgreSQL's figure counts every database on the server, so other work
    on it shows there too. Empty where there is no /proc.
    """
    totals = dict.fromkeys(("worker", "postgres", "redis", "client"), 0.0)
    proc = Path("/proc")
    if server_pid is None or not proc.is_dir():
        return {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, _, rest = stat.partition(" (")[2].rpartition(") ")
        fields = rest.split()
        parent, used = int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS
        if parent == server_pid:
            totals["worker"] += used
        elif int(entry.name) == os.getpid():
            totals["client"] += used
        elif name.startswith("postgres"):
            totals["postgres"] += used
        elif name.startswith("redis"):
            totals["redis"] += used
    return totals


def load(port, path, headers, body_for, clients, seconds, server_pid=None) -> Side:
    """Run `clients` clients, each posting one request after another, for
    `seconds`. (gunicorn's sync workers close each connection after its
    answer; each request opens a new one, on both sides alike.)"""
    counts = [0] * clients
    errors = [0] * clients
    deadline = time.monotonic() + seconds

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            connection.request("POST", path, body=body_for(), headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status == 201:
                counts[index] += 1
            else:
                errors[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    before = cpu_seconds(server_pid)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    after = cpu_seconds(server_pid)
    return Side(
        per_second=sum(counts) / elapsed,
        errors=sum(errors),
        requests=sum(counts),
        cpu={kind: after[kind] - before[kind] for kind in after},
    )


def alternate(port, path, headers, clients, seconds, rounds, server_pid=None):
    """Warm both paths, then alternate the bare view and `path` for `rounds`.

    Returns one (bare, measured) pair of `Side` per round, each side run for
    `seconds / rounds` seconds; with `server_pid` (gunicorn's master), each
    side also says what CPU it cost.
    """
    # Warm both paths before measuring.
    load(port, path, headers, user_body, 2, 1)
    load(port, "/bench/bare-insert/", {}, lambda: "x", 2, 1)
    # Short alternating rounds: a change in the machine's load from other
    # work falls on both sides alike instead of on whichever ran then.
    results = []
    for _ in range(rounds):
        results.append(
            (
                load(
                    port,
                    "/bench/bare-insert/",
                    {"Content-Type": "text/plain"},
                    lambda: "x",
                    clients,
                    seconds / rounds,
                    server_pid,
                ),
                load(
                    port,
                    path,
                    headers,
                    user_body,
                    clients,
                    seconds / rounds,
                    server_pid,
                ),
            )
        )
    return results


def summarise(rounds):
    """Mean rates of both sides, their ratio, per-round ratios, error totals."""
    bare = sum(b.per_second for b, _ in rounds) / len(rounds)
    measured = sum(m.per_second for _, m in rounds) / len(rounds)
    bare_errors = sum(b.errors for b, _ in rounds)
    measured_errors = sum(m.errors for _, m in rounds)
    round_ratios = [
        round(m.per_second / b.per_second, 3) if b.per_second else 0.0
        for b, m in rounds
    ]
    ratio = measured / bare if bare else 0.0
    return bare, measured, ratio, round_ratios, bare_errors, measured_errors


def cpu_per_request(sides: list[Side]) -> dict[str, float]:
    """CPU milliseconds per answered request over `sides`, by kind of process."""
    requests = sum(side.requests for side in sides)
    kinds = {kind for side in sides for kind in side.cpu}
    return {
        kind: round(1000 * sum(side.cpu.get(kind, 0.0) for side in sides) / requests, 3)
        for kind in sorted(kinds)
        if requests
    }


def cpu_text(cpu: dict[str, float]) -> str:
    """What `cpu_per_request` found, on one line: each kind, then the sum."""
    kinds = "".join(f"  {kind} {ms:.3f}" for kind, ms in cpu.items())
    return f"{kinds}  (all {sum(cpu.values()):.3f})"


def user_body():
    name = f"u{uuid.uuid4().hex[:16]}@bench.example"
    return json.dumps(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "name": {"givenName": "Bench", "familyName": "User"},
            "emails": [{"primary": True, "type": "work", "value": name}],
            "active": True,
        }
    )


def fill(directory, count):
    """Insert `count` directory users straight in SQL (setup, not measured)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO directory_directoryuser (directory_id, scim_id, external_id,
                user_name, attributes, first_name, last_name, email, manager_ref,
                department, title, active, record_digest, created_at, updated_at)
            SELECT %s, gen_random_uuid(), 'ext-' || n, 'person' || n || '@big.example',
                '{}'::jsonb, 'First', 'Last', 'person' || n || '@big.example', '', '',
                '', true, '', now(), now()
            FROM generate_series(1, %s) AS n
            """,
            [directory.pk, count],
        )
        cursor.execute("ANALYZE directory_directoryuser")


def query_counts(organization, users):
    """SQL queries and plan of a userName filter on a small and a big directory."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from directory.services import directory_create

    results = {}
    for label, size in (("small", 10), ("big", users)):
        directory, token = directory_create(
            organization=organization, provider="okta-scim-v2", actor="operator"
        )
        fill(directory, size)
        client = Client(HTTP_HOST="127.0.0.1")
        url = f"/scim/v2/{directory.public_id}/Users"
        wanted = 'userName eq "PERSON7@big.example"'
        client.get(url, {"filter": wanted}, HTTP_AUTHORIZATION=f"Bearer {token}")
        with CaptureQueriesContext(connection) as captured:
            started = time.monotonic()
            response = client.get(
                url, {"filter": wanted}, HTTP_AUTHORIZATION=f"Bearer {token}"
            )
            elapsed_ms = (time.monotonic() - started) * 1000
        page = next(
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith('SELECT "directory_directoryuser"')
        )
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + page)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        results[label] = {
            "users": size,
            "queries": len(captured.captured_queries),
            "ms": round(elapsed_ms, 1),
            "found": response.json()["totalResults"],
            "index_used": "directoryuser_unique_user_name" in plan,
            "plan": plan,
        }
    return results


def main(argv=None):
    args = parse_args(argv)
    recreate_database()
    organization, directory, token = prepare()
    server = gunicorn(args.port, args.workers)
    try:
        scim_headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/scim+json",
        }
        rounds = alternate(
            args.port,
            f"/scim/v2/{directory.public_id}/Users",
            scim_headers,
            args.clients,
            args.seconds,
            args.rounds,
            server.pid,
        )
    finally:
        server.terminate()
        server.wait()
    counts = query_counts(organization, args.users)

    bare, scim, ratio, round_ratios, bare_errors, scim_errors = summarise(rounds)
    report = {
        "clients": args.clients,
        "workers": args.workers,
        "seconds": args.seconds,
        "bare_inserts_per_second": round(bare, 1),
        "scim_creates_per_second": round(scim, 1),
        "ratio": round(ratio, 3),
        "round_ratios": round_ratios,
        "target": args.target,
        "errors": {"bare": bare_errors, "scim": scim_errors},
        "cpu_ms_per_request": {
            "bare": cpu_per_request([b for b, _ in rounds]),
            "scim": cpu_per_request([m for _, m in rounds]),
        },
        "filter_queries": counts,
    }
    constant = counts["small"]["queries"] == counts["big"]["queries"]
    ok = ratio >= args.target and constant and counts["big"]["index_used"]
    ok = ok and not bare_errors and not scim_errors
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"gunicorn {args.workers} workers, {args.clients} clients, "
            f"{args.seconds:g} s each\n"
            f"bare insert view     {bare:8.1f} /s\n"
            f"SCIM POST /Users     {scim:8.1f} /s   ratio {ratio:.2f} "
            f"(target {args.target:.2f})\n"
            f"rounds               {' '.join(f'{r:.2f}' for r in round_ratios)}\n"
            f"errors               bare {bare_errors}, scim {scim_errors}"
        )
        for side, cpu in report["cpu_ms_per_request"].items():
            print(f"CPU ms per request, {side:<5}{cpu_text(cpu)}")
        for row in counts.values():
            print(
                f"GET /Users?filter=userName eq, {row['users']:>7} users: "
                f"{row['queries']} queries, {row['ms']} ms, found {row['found']}, "
                f"userName index {'used' if row['index_used'] else 'NOT used'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
