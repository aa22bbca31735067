"""Calibrate the SCIM create benchmark: plain django-scim2 against a bare insert.

`bench/scim_create.py` reports our `POST /Users` rate as a share of a bare
Django view that inserts one row. This script measures the same share for
plain django-scim2 on the same machine, so that figure can be read against
it: a fresh Django project (`bench/plain_scim_project/`) with django-scim2's default
adapters (`SCIMUser`, `SCIMGroup`), its URLs, its auth check and a user model
built on its mixins, with no request log and no audit. The service user is
signed in by a constant-time header comparison and cached per worker (see
`bench/plain_scim_project/accounts/middleware.py`), the cheapest sign-in there is,
so the comparison is not skewed against django-scim2.

It recreates its own PostgreSQL database, migrates it, creates the service
user, then starts gunicorn serving the plain project and runs N concurrent
clients against `POST /scim/v2/Users` (the same minimal user as
scim_create.py sends) and against the bare insert view in the same server,
in R alternating rounds of S/R seconds each. It prints creates per second
for both and their ratio.

Usage: python bench/scim_plain.py [--clients N] [--seconds S] [--rounds R]
       [--workers W] [--port P] [--json]
Environment: DATABASE_URL names the PostgreSQL server (its database part is
replaced), BENCH_DATABASE the database to recreate (default
bench_scim_plain). No Redis is used.
Exits 1 only when a request did not answer 201 or a created user lacks its
scim_id: this is a calibration, it has no target.
"""

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scim_create import (  # noqa: E402
    _server_dsn,
    alternate,
    cpu_per_request,
    cpu_text,
    gunicorn,
    load_arguments,
    recreate_database,
    summarise,
)

DATABASE = os.environ.get("BENCH_DATABASE", "bench_scim_plain")
SETTINGS = "bench.plain_scim_project.settings"
# A calibration figure, from the product brief; printed for comparison only.
BRIEF_RATIO = 0.45


def parse_args(argv):
    return load_arguments(__doc__.splitlines()[0], port=8766).parse_args(argv)


def environment():
    return {
        **os.environ,
        "DATABASE_URL": _server_dsn(DATABASE),
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONPATH": str(ROOT),
    }


def prepare():
    """Migrate, then create the bare view's table and the service user."""
    if DATABASE in {"postgres", "template0", "template1"} or DATABASE.startswith(
        "test"
    ):
        raise SystemExit(f"refusing to use the database {DATABASE!r}")
    recreate_database(DATABASE)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", "migrate", "-v0"],
        env=environment(),
        check=True,
    )
    os.environ.update(environment())
    import django

    django.setup()
    from django.db import connection

    from bench.bare_insert import TABLE_CREATE
    from bench.plain_scim_project.accounts.middleware import SERVICE_USERNAME
    from bench.plain_scim_project.accounts.models import User

    with connection.cursor() as cursor:
        cursor.execute(TABLE_CREATE)
    User.objects.create(username=SERVICE_USERNAME)


def created_users():
    """People django-scim2 created: every user but the service user."""
    from bench.plain_scim_project.accounts.middleware import SERVICE_USERNAME
    from bench.plain_scim_project.accounts.models import User

    return User.objects.exclude(username=SERVICE_USERNAME)


def main(argv=None):
    args = parse_args(argv)
    prepare()
    from django.conf import settings

    server = gunicorn(
        args.port,
        args.workers,
        application="bench.plain_scim_project.wsgi:application",
        env=environment(),
        # The plain project has no sign-in page; the bare view answers, and
        # its probe row is in a table nothing counts.
        probe="/bench/bare-insert/",
    )
    try:
        rounds = alternate(
            args.port,
            "/scim/v2/Users",
            {
                "Authorization": settings.SCIM_PLAIN_TOKEN,
                "Content-Type": "application/scim+json",
            },
            args.clients,
            args.seconds,
            args.rounds,
            server.pid,
        )
    finally:
        server.terminate()
        server.wait()

    bare, plain, ratio, round_ratios, bare_errors, plain_errors = summarise(rounds)
    # django-scim2 saves in two statements (INSERT, then UPDATE of scim_id);
    # a user whose scim_id is missing would be a create that half happened.
    without_id = created_users().filter(scim_id__isnull=True).count()
    report = {
        "clients": args.clients,
        "workers": args.workers,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "django_scim2": version("django-scim2"),
        "django": version("django"),
        "bare_inserts_per_second": round(bare, 1),
        "plain_creates_per_second": round(plain, 1),
        "ratio": round(ratio, 3),
        "round_ratios": round_ratios,
        "brief_ratio": BRIEF_RATIO,
        "errors": {"bare": bare_errors, "plain": plain_errors},
        "cpu_ms_per_request": {
            "bare": cpu_per_request([b for b, _ in rounds]),
            "plain": cpu_per_request([m for _, m in rounds]),
        },
        "users_created": created_users().count(),
        "users_without_scim_id": without_id,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"gunicorn {args.workers} workers, {args.clients} clients, "
            f"{args.seconds:g} s each, django-scim2 {report['django_scim2']}\n"
            f"bare insert view     {bare:8.1f} /s\n"
            f"plain django-scim2   {plain:8.1f} /s   ratio {ratio:.2f} "
            f"(brief says about {BRIEF_RATIO:.2f})\n"
            f"rounds               {' '.join(f'{r:.2f}' for r in round_ratios)}\n"
            f"errors               bare {bare_errors}, plain {plain_errors}\n"
            f"users created        {report['users_created']}, "
            f"{without_id} without scim_id"
        )
        for side, cpu in report["cpu_ms_per_request"].items():
            print(f"CPU ms per request, {side:<5}{cpu_text(cpu)}")
    return 1 if bare_errors or plain_errors or without_id else 0


if __name__ == "__main__":
    raise SystemExit(main())
