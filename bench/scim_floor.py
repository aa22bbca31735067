"""How much of a SCIM create is the write: ours, its floor and a bare insert.

`bench/scim_create.py` measures our `POST /Users` as a share of a bare view
inserting one row. This script adds a third side, the floor: a view that
sends the very statement our create sends, after the same token check, and
does nothing else (`bench/scim_floor_view.py`). The floor's share of the
bare view is the most any Python around that write could reach on this
machine; the distance from ours to the floor is what our own code costs.

It recreates its own database, migrates it and creates an entitled
organisation with a SCIM directory, as scim_create.py does, then starts
gunicorn and runs N concurrent clients against the three in turn, in R
rounds of S/R seconds each. It prints each one's rate, the two shares of
the bare view and the CPU each request cost, by kind of process.

Usage: python bench/scim_floor.py [--clients N] [--seconds S] [--rounds R]
       [--workers W] [--port P] [--json]
Environment: as `bench/scim_create.py`; the database is BENCH_DATABASE
(default bench_scim_floor).
Exits 1 when a request did not answer 201.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("BENCH_DATABASE", "bench_scim_floor")

from bench import scim_create  # noqa: E402
from bench.scim_create import (  # noqa: E402
    cpu_per_request,
    cpu_text,
    gunicorn,
    load,
    load_arguments,
    user_body,
)

SIDES = ("bare", "ours", "floor")


def environment():
    return {
        **scim_create.environment(),
        "DJANGO_SETTINGS_MODULE": "bench.scim_floor_settings",
    }


def main(argv=None):
    args = load_arguments(__doc__.splitlines()[0], port=8767).parse_args(argv)
    scim_create.recreate_database()
    _, directory, token = scim_create.prepare()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/scim+json",
    }
    paths = {
        "bare": ("/bench/bare-insert/", {"Content-Type": "text/plain"}, lambda: "x"),
        "ours": (f"/scim/v2/{directory.public_id}/Users", headers, user_body),
        "floor": (f"/scim/floor/{directory.public_id}/Users", headers, user_body),
    }
    server = gunicorn(args.port, args.workers, env=environment())
    try:
        for path, side_headers, body in paths.values():
            load(args.port, path, side_headers, body, 2, 1)
        rounds = {side: [] for side in SIDES}
        for _ in range(args.rounds):
            for side in SIDES:
                path, side_headers, body = paths[side]
                rounds[side].append(
                    load(
                        args.port,
                        path,
                        side_headers,
                        body,
                        args.clients,
                        args.seconds / args.rounds,
                        server.pid,
                    )
                )
    finally:
        server.terminate()
        server.wait()

    rates = {
        side: sum(r.per_second for r in rounds[side]) / args.rounds for side in SIDES
    }
    report = {
        "clients": args.clients,
        "workers": args.workers,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "per_second": {side: round(rate, 1) for side, rate in rates.items()},
        "share_of_bare": {
            side: round(rates[side] / rates["bare"], 3) for side in ("ours", "floor")
        },
        "errors": {side: sum(r.errors for r in rounds[side]) for side in SIDES},
        "cpu_ms_per_request": {side: cpu_per_request(rounds[side]) for side in SIDES},
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"gunicorn {args.workers} workers, {args.clients} clients, "
            f"{args.seconds:g} s each in {args.rounds} rounds"
        )
        for side in SIDES:
            share = report["share_of_bare"].get(side)
            print(
                f"{side:<6}{rates[side]:8.1f} /s"
                + (f"   share of bare {share:.2f}" if share else "           ")
                + f"   errors {report['errors'][side]}"
            )
        for side, cpu in report["cpu_ms_per_request"].items():
            print(f"CPU ms per request, {side:<6}{cpu_text(cpu)}")
    return 1 if any(report["errors"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
