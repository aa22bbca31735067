"""Benchmark a pull sync on PostgreSQL: 50,000 employees from a fake Gusto.

A fake Gusto API (the test suite's own, `tests/peers/hris/gusto.py`) serves
`--users` employees, 100 a page, from a separate process so that serving
does not compete with the sync for the interpreter. The script creates its
own database and times, in the same run:

- a bare `bulk_create` of the same number of users (rolled back), the floor
  a first sync is compared with;
- a first sync of an empty directory: every page fetched and staged, then
  every person created with their directory record and an audit event;
- a re-sync after `--changed` (1%) of the employees changed: renamed, a new
  work email, terminated, or moved to another department.

Each line gives wall time, SQL statements and the peak of Python memory
traced by `tracemalloc` during that step. A first sync of a directory a tenth
the size is measured first (after an untimed sync of 200 people, so that code
loaded on first use counts in neither peak), so the two peaks can be
compared: memory must follow the page size, not the directory size. Redis is
used as in production (`--redis`), so link resolution requests leave the
process. The script checks the outcome (people created, updated and
archived) and exits 1 on a difference, or when a target is missed: first
sync within 5 times the bare insert, re-sync within a third of the first
sync, and the large first sync's peak within 1.5 times the small one's.

Usage: python bench/hris_sync.py [--users N] [--changed F] [--json] [--keep]
See bench/README.md for how to read the output.
"""

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import sys
import time
import tracemalloc
from pathlib import Path

from hris_fakes import PROVIDERS, mutate, people
from people_page import (
    _DATABASE_NAME_RE,
    _PROTECTED,
    BenchError,
    database_drop,
    database_recreate,
    django_setup,
    server_urls,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "bench_hris_sync"
# The benchmark's own Redis database: emptied before and after the run.
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
FIRST_SYNC_TARGET = 5.0
RESYNC_TARGET = 1 / 3
# Ten times the people may cost at most this much more peak memory.
MEMORY_TARGET = 1.5


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Time a pull sync.")
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument(
        "--provider", choices=sorted(PROVIDERS), default="gusto", help="fake to serve"
    )
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument(
        "--redis",
        default=DEFAULT_REDIS,
        help="a Redis database of the benchmark's own (emptied); '' for none",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="machine output")
    parser.add_argument(
        "--no-trace",
        action="store_true",
        help="time without tracemalloc (no peak memory)",
    )
    parser.add_argument(
        "--profile",
        choices=["first", "resync"],
        help="print a profile of that step",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the database in place"
    )
    args = parser.parse_args(argv)
    if args.users < 100 or not 0 < args.changed < 0.5:
        raise BenchError("--users must be >= 100 and --changed between 0 and 0.5")
    name = args.database
    if not _DATABASE_NAME_RE.match(name) or name in _PROTECTED:
        raise BenchError(f"{name!r} is not a database the benchmark may use")
    if name.startswith("test"):
        raise BenchError(f"{name!r} looks like a test database; choose another")
    return args


def _serve(conn, provider_name, size, seed, domain):
    """The fake's process: serve, and apply what the parent asks for."""
    provider = PROVIDERS[provider_name]
    fake = provider.build(people(size, seed, domain))
    fake.start()
    conn.send(
        {
            "url": fake.url,
            "credentials": provider.credentials(fake),
            "groups": provider.sync_groups(fake),
        }
    )
    while True:
        command, argument = conn.recv()
        if command == "mutate":
            conn.send(mutate(provider, fake, size, argument, seed))
        else:
            fake.stop()
            conn.send("stopped")
            return


class Counter:
    """Counts SQL statements without keeping them."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


TRACE = True


def measure(step):
    """Run `step()`; its result, seconds, statements and traced peak in MB."""
    from django.db import connection

    counter = Counter()
    if TRACE:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = step()
    seconds = time.perf_counter() - started
    peak = 0
    if TRACE:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, {
        "seconds": round(seconds, 3),
        "queries": counter.count,
        "peak_mb": round(peak / 1e6, 1),
    }


def bare_insert(organization, size: int, domain: str) -> None:
    """The floor: the same number of users in one bulk_create, rolled back."""
    from django.db import transaction

    from progression.models import User

    with transaction.atomic():
        users = []
        for index in range(size):
            user = User(
                organization=organization,
                email=f"bare.{index}@{domain}",
                first_name="Bare",
                last_name=f"User {index}",
                source=User.Source.DIRECTORY,
            )
            user.set_unusable_password()
            users.append(user)
        User.objects.bulk_create(users, batch_size=1000)
        transaction.set_rollback(True)


def redis_empty(url: str) -> None:
    if url:
        import redis

        redis.Redis.from_url(url).flushdb()


def run(args) -> dict:
    maintenance_url, database_url = server_urls(args.database)
    database_recreate(maintenance_url, args.database)
    redis_empty(args.redis)
    try:
        return _run(args, database_url)
    finally:
        redis_empty(args.redis)
        if not args.keep:
            database_drop(maintenance_url, args.database)


class FakeProvider:
    """A fake HR system in a process of its own, and a directory of it to sync."""

    def __init__(self, *, provider: str, size: int, seed: int, slug: str):
        from billing.services.subscriptions import subscription_set
        from directory.models import Directory
        from directory.sync import pull_directory_create
        from progression.services.organizations import organization_create

        context = multiprocessing.get_context("fork")
        self.pipe, child = context.Pipe()
        domain = f"{slug}.example"
        self.process = context.Process(
            target=_serve, args=(child, provider, size, seed, domain), daemon=True
        )
        self.process.start()
        hello = self.pipe.recv()
        self.organization = organization_create(name=slug.title(), slug=slug)
        subscription_set(
            organization=self.organization,
            plan="scale",
            period="annual",
            seats=max(50, size),
            actor="operator",
        )
        self.directory = pull_directory_create(
            organization=self.organization,
            provider=provider,
            credentials=hello["credentials"],
            base_url=hello["url"],
            actor="operator",
        )
        Directory.objects.filter(pk=self.directory.pk).update(
            state=Directory.State.ACTIVE,
            archive_threshold_people=size,
            sync_groups=hello["groups"],
        )

    def sync(self):
        from directory.models import SyncRun
        from directory.sync import directory_sync

        self.directory.refresh_from_db()
        return directory_sync(
            directory=self.directory, trigger=SyncRun.Trigger.OPERATOR
        )

    def mutate(self, share: float) -> dict:
        self.pipe.send(("mutate", share))
        return self.pipe.recv()

    def stop(self) -> None:
        self.pipe.send(("stop", None))
        self.pipe.recv()
        self.process.join(timeout=10)


def _run(args, database_url):
    os.environ["OUTBOUND_ALLOWED_HOSTS"] = "127.0.0.1"
    # With Redis, as in production, link resolution requests and the queued
    # task leave the process; no worker runs them here.
    django_setup(database_url, args.redis)
    from directory.models import SyncRun
    from progression.celery import app as celery_app
    from progression.models import User

    # Link resolution is queued, not run: it is not part of the sync.
    celery_app.conf.task_always_eager = False
    result = {"users": args.users, "provider": args.provider}
    problems = []

    # A small untimed sync first, so that code loaded and caches filled on
    # first use count in neither measured step's peak.
    warmup = FakeProvider(
        provider=args.provider, size=200, seed=args.seed, slug="warmup"
    )
    warmup.sync()
    warmup.stop()

    # A directory a tenth the size: the two first syncs' peaks should be
    # close, since memory follows the page size, not the directory size.
    small_size = args.users // 10
    small = FakeProvider(
        provider=args.provider, size=small_size, seed=args.seed, slug="small"
    )
    small_run, result["small_first_sync"] = measure(small.sync)
    result["small_first_sync"]["users"] = small_size
    if small_run.created != small_size:
        problems.append(f"small first sync created {small_run.created}")
    small.stop()

    large = FakeProvider(
        provider=args.provider, size=args.users, seed=args.seed, slug="large"
    )
    _, result["bare_insert"] = measure(
        lambda: bare_insert(large.organization, args.users, "bare.example")
    )
    profile = cProfile.Profile()
    first, result["first_sync"] = measure(
        (lambda: profile.runcall(large.sync)) if args.profile == "first" else large.sync
    )
    kinds = large.mutate(args.changed)
    resync, result["resync"] = measure(
        (lambda: profile.runcall(large.sync))
        if args.profile == "resync"
        else large.sync
    )
    large.stop()
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    result["changes"] = kinds

    if (first.state, first.created) != (SyncRun.State.SUCCEEDED, args.users):
        problems.append(f"first sync {first.state}, created {first.created}")
    expected_updated = kinds["renamed"] + kinds["email"] + kinds["moved"]
    got = (resync.state, resync.updated, resync.archived, resync.created)
    if got != (SyncRun.State.SUCCEEDED, expected_updated, kinds["terminated"], 0):
        problems.append(f"re-sync {got}, expected {expected_updated} updated")
    archived = User.objects.filter(
        organization=large.organization, status=User.Status.ARCHIVED
    ).count()
    if archived != kinds["terminated"]:
        problems.append(f"{archived} archived, expected {kinds['terminated']}")

    bare = result["bare_insert"]["seconds"]
    result["first_sync_ratio"] = round(result["first_sync"]["seconds"] / bare, 2)
    result["resync_ratio"] = round(
        result["resync"]["seconds"] / result["first_sync"]["seconds"], 3
    )
    if result["first_sync_ratio"] > FIRST_SYNC_TARGET:
        problems.append(f"first sync {result['first_sync_ratio']}x the bare insert")
    if result["resync_ratio"] > RESYNC_TARGET:
        problems.append(f"re-sync {result['resync_ratio']} of the first sync")
    if TRACE:
        small_peak = result["small_first_sync"]["peak_mb"]
        result["memory_ratio"] = round(
            result["first_sync"]["peak_mb"] / max(small_peak, 0.1), 2
        )
        if result["memory_ratio"] > MEMORY_TARGET:
            problems.append(
                f"first sync of {args.users:,} peaked at {result['memory_ratio']}x"
                f" the memory of {small_size:,}"
            )
    result["problems"] = problems
    return result


def report_print(result) -> None:
    print(f"Pull sync of {result['users']:,} employees (fake {result['provider']})")
    print(f"{'step':<32}{'seconds':>10}{'queries':>10}{'peak MB':>10}")
    rows = [
        ("bare bulk_create", result["bare_insert"]),
        ("first sync", result["first_sync"]),
        ("re-sync, changed", result["resync"]),
        (
            f"first sync of {result['small_first_sync']['users']:,}",
            result["small_first_sync"],
        ),
    ]
    for label, row in rows:
        print(
            f"{label:<32}{row['seconds']:>10.2f}{row['queries']:>10,}"
            f"{row['peak_mb']:>10.1f}"
        )
    print(
        f"first sync / bare insert: {result['first_sync_ratio']}x "
        f"(target <= {FIRST_SYNC_TARGET}x)"
    )
    print(
        f"re-sync / first sync: {result['resync_ratio']} "
        f"(target <= {RESYNC_TARGET:.3f}); changes: {result['changes']}"
    )
    if "memory_ratio" in result:
        print(
            f"peak memory, {result['users']:,} / "
            f"{result['small_first_sync']['users']:,} people: "
            f"{result['memory_ratio']}x (target <= {MEMORY_TARGET}x)"
        )
    for problem in result["problems"]:
        print(f"FAILED: {problem}")


def main(argv=None) -> int:
    global TRACE
    try:
        args = parse_args(argv)
        TRACE = not args.no_trace
        result = run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report_print(result)
    return EXIT_FAILED if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
