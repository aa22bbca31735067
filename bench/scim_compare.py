"""Compare SCIM creates of this checkout with those of another, side by side.

A change that saves a tenth of a millisecond per create is lost in the noise
of two runs of `bench/scim_create.py` made minutes apart on a shared machine.
This script serves both checkouts at once, each from its own gunicorn and its
own database, and alternates short rounds between them and their bare insert
views, so a change in the machine's load falls on both alike. It prints, for
each side, creates per second, the ratio to its bare view and the CPU each
request cost by kind of process; the two bare views run the same code and
show how much the figures move by themselves.

The other checkout is usually a worktree of an earlier commit
(`git worktree add ../before HEAD~1`); it must have `bench/scim_create.py`
with `recreate_database()` and `prepare()`, and its own migrations are
applied to its database.

Each of the four sides (two creates, two bare views) runs S seconds in all,
in R rounds.

Usage: python bench/scim_compare.py OTHER_CHECKOUT [--clients N]
       [--seconds S] [--rounds R] [--workers W] [--port P] [--json]
Environment: as `bench/scim_create.py`; the databases are BENCH_DATABASE
with `_this` and `_other` appended, and the two Redis databases the one
BENCH_REDIS_URL names and the next.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scim_create import (  # noqa: E402
    DATABASE,
    SERVER_URL,
    _server_dsn,
    cpu_per_request,
    cpu_text,
    environment,
    gunicorn,
    load,
    load_arguments,
    user_body,
)

BARE = "/bench/bare-insert/"
# Prints the directory's public id and its token, from the checkout's own
# benchmark code, against the database BENCH_DATABASE names.
_PREPARE = (
    "import bench.scim_create as bench; bench.recreate_database(); "
    "_, directory, token = bench.prepare(); print(directory.public_id, token)"
)


def parse_args(argv):
    parser = load_arguments(__doc__.splitlines()[0], port=8811)
    parser.add_argument("other", type=Path, help="the checkout to compare with")
    parser.set_defaults(rounds=10, seconds=40.0)
    return parser.parse_args(argv)


def _redis_url(offset: int) -> str:
    base = urlsplit(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    number = int(base.path.strip("/") or 0) + offset
    return base._replace(path=f"/{number}").geturl()


def serve(checkout: Path, name: str, offset: int, args):
    """Prepare `checkout`'s database, start its gunicorn; return what the
    clients need: the process, its port, the SCIM path and headers."""
    database = f"{DATABASE}_{name}"
    env = environment()
    env.update(
        BENCH_DATABASE=database,
        BENCH_REDIS_URL=_redis_url(offset),
        REDIS_URL=_redis_url(offset),
        CACHE_KEY_PREFIX=f"bench-compare-{name}",
        DATABASE_URL=_server_dsn(database),
        PYTHONPATH=str(checkout),
    )
    prepared = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _PREPARE],
        cwd=checkout,
        env={**env, "DATABASE_URL": SERVER_URL},
        capture_output=True,
        text=True,
        check=True,
    )
    public_id, token = prepared.stdout.split()[-2:]
    port = args.port + offset
    process = gunicorn(port, args.workers, env=env, cwd=checkout)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/scim+json",
    }
    return process, port, f"/scim/v2/{public_id}/Users", headers


def compare(servers: dict, args) -> dict:
    """Alternate rounds over every side; each side's rounds, by name."""
    seconds = args.seconds / args.rounds
    for _, port, path, headers in servers.values():
        load(port, path, headers, user_body, 2, 1)
        load(port, BARE, {"Content-Type": "text/plain"}, lambda: "x", 2, 1)
    sides = {f"{kind} {name}": [] for name in servers for kind in ("create", "bare")}
    order = list(servers.items())
    for _ in range(args.rounds):
        # Whichever side runs first in a round fares differently from the
        # second; taking turns cancels that out.
        order.reverse()
        for name, (process, port, path, headers) in order:
            sides[f"create {name}"].append(
                load(port, path, headers, user_body, args.clients, seconds, process.pid)
            )
            sides[f"bare {name}"].append(
                load(
                    port,
                    BARE,
                    {"Content-Type": "text/plain"},
                    lambda: "x",
                    args.clients,
                    seconds,
                    process.pid,
                )
            )
    return sides


def main(argv=None):
    args = parse_args(argv)
    servers = {}
    try:
        servers["this"] = serve(ROOT, "this", 0, args)
        servers["other"] = serve(args.other.resolve(), "other", 1, args)
        sides = compare(servers, args)
    finally:
        for process, *_ in servers.values():
            process.terminate()
            process.wait()

    report = {}
    for name, rounds in sides.items():
        report[name] = {
            "per_second": round(sum(s.per_second for s in rounds) / len(rounds), 1),
            "errors": sum(s.errors for s in rounds),
            "cpu_ms_per_request": cpu_per_request(rounds),
        }
    for name in servers:
        creates, bare = report[f"create {name}"], report[f"bare {name}"]
        creates["ratio"] = round(creates["per_second"] / bare["per_second"], 3)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"gunicorn {args.workers} workers each, {args.clients} clients, "
            f"{args.rounds} rounds; other: {args.other}"
        )
        for name, side in report.items():
            cpu = side["cpu_ms_per_request"]
            ratio = f"  ratio {side['ratio']:.3f}" if "ratio" in side else ""
            print(
                f"{name:<13} {side['per_second']:8.1f} /s{ratio}  CPU ms"
                f"{cpu_text(cpu)}  errors {side['errors']}"
            )
    return 1 if any(side["errors"] for side in report.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
