"""Benchmark the People page on PostgreSQL at two organisation sizes.

Creates its own database, fills it with a large and a small organisation
(teams, positions, managers, some archived people), signs in as an admin of
each through Django's test client and times the People page's first page, a
search and a team filter. Each is printed next to a bare `SELECT count(*)` on
the users table from the same run, with the number of SQL queries the page
made. The People page must make the same number of queries at both sizes;
the script exits 1 when it does not, or when a page shows the wrong people.

Usage: python bench/people_page.py [--users N] [--small N] [--json] [--keep]
See bench/README.md for every option and how to read the output.
"""

import argparse
import json
import os
import random
import re
import secrets
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
from people_data import expected_count, sample_build

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench"
DEFAULT_DATABASE = "bench_people"
MAINTENANCE_DATABASE = "postgres"
# Databases the benchmark must never create, fill or drop: the server's own,
# and every test database (`test`, and pytest-django's `test_<name>`).
_PROTECTED = {"postgres", "template0", "template1"}
_DATABASE_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

BARE_COUNT = "SELECT count(*) FROM progression_user"
SEQ_SCAN = "Seq Scan on progression_user"


class BenchError(Exception):
    """Bad input or an unusable server; the script exits 2 with the message."""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Time the People page of a large and a small organisation."
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="machine output")
    parser.add_argument("--explain", action="store_true", help="print query plans")
    parser.add_argument(
        "--keep", action="store_true", help="leave the database in place"
    )
    args = parser.parse_args(argv)
    if args.small < 1 or args.users <= args.small:
        raise BenchError("--users must be larger than --small, and --small >= 1")
    if args.teams < 1 or args.repeat < 1 or args.warmup < 0:
        raise BenchError("--teams and --repeat must be >= 1, --warmup >= 0")
    name = args.database
    if not _DATABASE_NAME_RE.match(name) or name in _PROTECTED:
        raise BenchError(f"{name!r} is not a database the benchmark may use")
    if name.startswith("test"):
        raise BenchError(f"{name!r} looks like a test database; choose another")
    return args


def server_urls(database: str) -> tuple[str, str]:
    """The maintenance and benchmark URLs on the server DATABASE_URL names.

    Only the server part of DATABASE_URL (user, password, host, port) is used:
    the benchmark always works in its own database, whatever the URL's path.
    """
    url = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if url.scheme not in {"postgres", "postgresql"}:
        raise BenchError("DATABASE_URL must be a postgres:// URL")
    base = f"{url.scheme}://{url.netloc}/"
    return base + MAINTENANCE_DATABASE, base + database


def database_recreate(maintenance_url: str, database: str) -> None:
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def database_drop(maintenance_url: str, database: str) -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def django_setup(database_url: str, redis_url: str = "") -> None:
    """Production-like settings on `database_url`; Redis only when given."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "progression.settings"
    # Production-like settings: no debug, a throwaway key, the test client's
    # host allowed. The page needs no Redis, so none is used unless asked.
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)

    import django

    # Static files are not collected for a benchmark and the page needs none.
    warnings.filterwarnings("ignore", message="No directory at", module="django")
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def summary(times: list[float]) -> dict:
    p90 = statistics.quantiles(times, n=10)[8] if len(times) > 1 else times[0]
    return {"median_ms": round(statistics.median(times), 2), "p90_ms": round(p90, 2)}


def bare_count_measure(*, repeat: int, warmup: int) -> list[float]:
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for attempt in range(warmup + repeat):
            start = time.perf_counter()
            cursor.execute(BARE_COUNT)
            cursor.fetchone()
            if attempt >= warmup:
                times.append((time.perf_counter() - start) * 1000)
    return times


def plans_explain(queries: list[dict]) -> list[dict]:
    """EXPLAIN ANALYZE the queries that count and list a page's people."""
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            # The page's own count and list; the session's user lookup is not.
            if 'FROM "progression_user"' not in sql or "WHERE (" not in sql:
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            text = "\n".join(row[0] for row in cursor.fetchall())
            plans.append({"sql": sql, "plan": text, "seq_scan": SEQ_SCAN in text})
    return plans


def page_measure(client, sample, *, name, params, expected, repeat, warmup, other):
    """Time one People page view and check it shows this organisation's people."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = "/people/" + (f"?{urlencode(params)}" if params else "")
    for _ in range(warmup):
        client.get(url)
    times, sql_times, counts = [], [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        counts.add(len(captured.captured_queries))
        sql_times.append(sum(float(q["time"]) for q in captured.captured_queries))

    content = response.content.decode()
    shown = (
        f"{expected} people" in content
        if expected
        else "No one matches these filters." in content
    )
    leaked = f"@{other.domain}" in content
    if response.status_code != 200 or not shown or leaked:
        raise BenchError(
            f"{sample.label} {name}: status {response.status_code}, expected "
            f"{expected} people shown: {shown}, other organisation shown: {leaked}"
        )
    plans = plans_explain(captured.captured_queries)
    return {
        "page": name,
        "url": url,
        "matches": expected,
        "queries": max(counts),
        "queries_stable": len(counts) == 1,
        **summary(times),
        "sql_median_ms": round(statistics.median(sql_times) * 1000, 2),
        "seq_scan": any(plan["seq_scan"] for plan in plans),
        "statements": [q["sql"] for q in captured.captured_queries],
        "plans": plans,
    }


def sample_measure(sample, other, *, term, repeat, warmup) -> dict:
    from django.test import Client

    from progression.models import User

    client = Client()
    client.force_login(User.objects.get(pk=sample.admin_id))
    # The first team with active members, for the same reason as the search.
    team_id = next(t for t in sample.team_ids if expected_count(sample, team_id=t))
    pages = [
        ("first page", {}, expected_count(sample)),
        ("search", {"q": term}, expected_count(sample, term=term)),
        ("team filter", {"team": team_id}, expected_count(sample, team_id=team_id)),
    ]
    results, count_times = [], []
    for name, params, expected in pages:
        count_times += bare_count_measure(repeat=repeat, warmup=warmup)
        results.append(
            page_measure(
                client,
                sample,
                name=name,
                params=params,
                expected=expected,
                repeat=repeat,
                warmup=warmup,
                other=other,
            )
        )
    return {
        "label": sample.label,
        "users": sample.size,
        "pages": results,
        "count_times": count_times,
    }


def run(args) -> dict:
    from django.db import connection

    rng = random.Random(args.seed)
    started = time.perf_counter()
    big = sample_build(
        label="Bench Large",
        slug="bench-large",
        size=args.users,
        teams=args.teams,
        rng=rng,
    )
    small = sample_build(
        label="Bench Small",
        slug="bench-small",
        size=args.small,
        teams=args.teams,
        rng=rng,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(BARE_COUNT)
        table_rows = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    load_seconds = time.perf_counter() - started

    # One surname that both organisations have, so both searches match someone.
    # An empty page skips the list query, so both must match someone.
    in_big = {p.last_name for p in big.people[1:] if p.active}
    term = next(
        (p.last_name for p in small.people[1:] if p.active and p.last_name in in_big),
        None,
    )
    if term is None:
        raise BenchError("no active surname is in both organisations; add people")
    measured = [
        sample_measure(s, o, term=term, repeat=args.repeat, warmup=args.warmup)
        for s, o in ((small, big), (big, small))
    ]
    count_times = [t for m in measured for t in m.pop("count_times")]
    small_pages, big_pages = (m["pages"] for m in measured)
    constant = all(
        s["queries"] == b["queries"] and s["queries_stable"] and b["queries_stable"]
        for s, b in zip(small_pages, big_pages, strict=True)
    )
    return {
        "server_version": server_version,
        "database": args.database,
        "table_rows": table_rows,
        "load_seconds": round(load_seconds, 1),
        "repeat": args.repeat,
        "warmup": args.warmup,
        "search_term": term,
        "bare_count": {"sql": BARE_COUNT, **summary(count_times)},
        "sizes": measured,
        "constant_queries": constant,
    }


def report_print(result, *, explain: bool) -> None:
    count = result["bare_count"]
    print(
        f"People page on PostgreSQL {result['server_version']}, database "
        f"{result['database']}: {result['table_rows']:,} rows in progression_user "
        f"(loaded in {result['load_seconds']} s)"
    )
    print(
        f"{result['repeat']} timed requests per page after {result['warmup']} "
        "warm-up requests; times in milliseconds, x count = page median / count "
        "median\n"
    )
    columns = (
        f"{'matches':>7} {'queries':>7} {'median':>7} {'p90':>7} "
        f"{'sql':>6} {'x count':>7} {'plan':<5}"
    )
    head = f"{'page':<13}"
    sub = f"{'':<13}"
    for size in result["sizes"]:
        head += f" | {size['users']:,} people".ljust(len(columns) + 3)
        sub += f" | {columns}"
    print(head)
    print(sub)
    print("-" * len(sub))
    for index, name in enumerate(p["page"] for p in result["sizes"][0]["pages"]):
        line = f"{name:<13}"
        for size in result["sizes"]:
            page = size["pages"][index]
            ratio = page["median_ms"] / count["median_ms"]
            queries = f"{page['queries']}{'' if page['queries_stable'] else '~'}"
            plan = "SEQ" if page["seq_scan"] else "index"
            line += (
                f" | {page['matches']:>7,} {queries:>7} {page['median_ms']:>7.1f} "
                f"{page['p90_ms']:>7.1f} {page['sql_median_ms']:>6.1f} "
                f"{ratio:>7.1f} {plan:<5}"
            )
        print(line)
    print(
        f"\n{count['sql']}: median {count['median_ms']:.2f} ms, "
        f"p90 {count['p90_ms']:.2f} ms"
    )
    print(
        f"search: q={result['search_term']!r}; "
        "team filter: the first team with active members"
    )
    if explain:
        for size in result["sizes"]:
            for page in size["pages"]:
                for plan in page["plans"]:
                    print(f"\n-- {size['users']:,} people, {page['page']}")
                    print(plan["sql"])
                    print(plan["plan"])
    differences = [
        f"{s['page']} {s['queries']} vs {b['queries']}"
        for s, b in zip(*(size["pages"] for size in result["sizes"]), strict=True)
        if s["queries"] != b["queries"]
        or not (s["queries_stable"] and b["queries_stable"])
    ]
    verdict = "FAIL: " + ", ".join(differences) if differences else "PASS"
    print(
        f"\nQueries per page equal at {result['sizes'][0]['users']:,} and "
        f"{result['sizes'][1]['users']:,} people: {verdict}"
    )


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
        maintenance_url, database_url = server_urls(args.database)
        database_recreate(maintenance_url, args.database)
    except (BenchError, psycopg.Error) as exc:
        print(f"people_page: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        django_setup(database_url)
        result = run(args)
    except BenchError as exc:
        print(f"people_page: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if not args.keep:
            database_drop(maintenance_url, args.database)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report_print(result, explain=args.explain)
    return 0 if result["constant_queries"] else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
