"""Benchmark link resolution on PostgreSQL: 100,000 people, from scratch and after 1%.

Creates its own database with an organisation whose people came from a
directory: every person has a directory record naming a manager (the
manager's email, SCIM id or employee id), a department and a title, and no
links yet. A smaller second organisation shares the tables. The script then
times, in the same run:

- a single hand-written `UPDATE ... FROM` that sets only the manager column
  of the same people from their managers' emails (rolled back), the floor
  any resolution is compared with;
- the whole resolution from scratch: managers, teams and positions, loops,
  issues and one audit event per person;
- after 1% of the people change manager, department and title: the run the
  task makes for those people, and a whole-organisation run for comparison.

Each is printed with its number of SQL statements. The script checks every
person's links against what the data says and exits 1 on a difference.

Usage: python bench/links.py [--users N] [--repeat N] [--json] [--keep]
See bench/README.md for every option and how to read the output.
"""

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from people_data import FIRST_NAMES, POSITION_NAMES, SURNAMES
from people_page import (
    _DATABASE_NAME_RE,
    _PROTECTED,
    BenchError,
    database_drop,
    database_recreate,
    django_setup,
    server_urls,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE = "bench_links"
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
REPORTS_PER_MANAGER = 8
# Shares of references that match nothing, so every run has issues to record.
UNKNOWN_DEPARTMENT = 0.02
UNKNOWN_TITLE = 0.03
PROFILE = False

# The floor: each person's manager given as an email in a table of its own, so
# the statement needs none of the resolution rules.
BASELINE_UPDATE = """
UPDATE progression_user u SET manager_id = m.id
FROM bench_manager_email b
JOIN progression_user m ON lower(m.email) = lower(b.email) AND m.organization_id = %s
WHERE u.id = b.user_id
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Time link resolution.")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--other", type=int, default=2_000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="machine output")
    parser.add_argument(
        "--profile", action="store_true", help="print each statement's time"
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the database in place"
    )
    args = parser.parse_args(argv)
    if args.users < 100 or args.other < 0 or args.teams < 1 or args.repeat < 1:
        raise BenchError("--users >= 100, --other >= 0, --teams and --repeat >= 1")
    if not 0 < args.changed < 1:
        raise BenchError("--changed is a share between 0 and 1, such as 0.01")
    name = args.database
    if not _DATABASE_NAME_RE.match(name) or name in _PROTECTED:
        raise BenchError(f"{name!r} is not a database the benchmark may use")
    if name.startswith("test"):
        raise BenchError(f"{name!r} looks like a test database; choose another")
    return args


class Organisation:
    """One generated organisation and the links its data asks for."""

    def __init__(self, *, label, slug, size, teams, rng):
        from directory.services import directory_create
        from progression.services.organizations import organization_create
        from progression.services.teams import position_create, team_create

        self.label, self.size, self.rng = label, size, rng
        self.organization = organization_create(name=label, slug=slug)
        # Teams and positions first: with no directory yet, nothing is queued.
        self.teams = {}
        for number in range(teams):
            team = team_create(
                organization=self.organization, name=f"Team {number:03d}", actor=None
            )
            self.teams[team.name] = (
                team.pk,
                {
                    name: position_create(team=team, name=name, actor=None).pk
                    for name in POSITION_NAMES
                },
            )
        self.directory, _ = directory_create(
            organization=self.organization, provider="okta-scim-v2", actor="operator"
        )
        self.people = []  # dicts: user_id, scim_id, external_id, email, refs
        self.expected = {}  # user_id: (manager_id, team_id, position_id)
        self.issues = 0

    def _refs(self):
        """A department and a title, as a directory would send them."""
        rng = self.rng
        if rng.random() < UNKNOWN_DEPARTMENT:
            department = "Team Unknown"
        else:
            name = rng.choice(sorted(self.teams))
            # Departments as directories write them: any case, stray spaces.
            department = rng.choice([name, name.upper(), f" {name.lower()} "])
        if rng.random() < UNKNOWN_TITLE:
            title = "Chief Unknown Officer"
        else:
            title = rng.choice(POSITION_NAMES)
        return department, title

    def _manager_ref(self, manager):
        kind = self.rng.randrange(3)
        if kind == 0:
            return manager["email"]
        if kind == 1:
            return str(manager["scim_id"])
        return manager["external_id"]

    def build(self):
        """Copy the people and their directory records in, unlinked."""
        from django.db import connection

        from directory.models import DirectoryUser
        from progression.models import User

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('progression_user', 'id')) "
                "FROM generate_series(1, %s)",
                [self.size],
            )
            ids = sorted(row[0] for row in cursor.fetchall())
        now = datetime.now(tz=UTC)
        domain = f"{self.organization.slug}.example"
        users, records = [], []
        for index, pk in enumerate(ids):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
            manager = (
                None if index == 0 else self.people[(index - 1) // REPORTS_PER_MANAGER]
            )
            department, title = self._refs()
            person = {
                "user_id": pk,
                "email": f"{first}.{last}.{index}@{domain}".lower(),
                "scim_id": uuid.UUID(int=self.rng.getrandbits(128), version=4),
                "external_id": f"E{index:07d}",
                "manager_ref": "" if manager is None else self._manager_ref(manager),
                "manager_email": "" if manager is None else manager["email"],
                "department": department,
                "title": title,
            }
            self.people.append(person)
            users.append(
                {
                    "id": pk,
                    "password": "!unusable",
                    "organization_id": self.organization.pk,
                    "email": person["email"],
                    "first_name": first,
                    "last_name": last,
                    "status": User.Status.ACTIVE,
                    "role": User.Role.MEMBER,
                    "source": User.Source.DIRECTORY,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            records.append(
                {
                    "directory_id": self.directory.pk,
                    "scim_id": person["scim_id"],
                    "external_id": person["external_id"],
                    "user_name": person["email"],
                    "attributes": json.dumps({"userName": person["email"]}),
                    "email": person["email"],
                    "first_name": first,
                    "last_name": last,
                    "manager_ref": person["manager_ref"],
                    "department": department,
                    "title": title,
                    "active": True,
                    "user_id": pk,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _copy(User, users)
        _copy(DirectoryUser, records)
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_manager_email "
                "(user_id bigint PRIMARY KEY, email text NOT NULL)"
            )
            with cursor.copy("COPY bench_manager_email FROM STDIN") as copy:
                for person in self.people:
                    if person["manager_email"]:
                        copy.write_row((person["user_id"], person["manager_email"]))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self._recount({pk: (None, None, None) for pk in ids})

    def change(self, share):
        """Give `share` of the people another manager, department and title."""
        from django.db import connection

        changed = self.rng.sample(range(1, self.size), max(1, int(self.size * share)))
        rows = []
        for index in changed:
            person = self.people[index]
            # Any earlier person can be the new manager: never a loop.
            manager = self.people[self.rng.randrange(0, index)]
            person["manager_ref"] = self._manager_ref(manager)
            person["department"], person["title"] = self._refs()
            rows.append(person)
        self._recount(self.expected)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE directory_directoryuser du SET manager_ref = v.ref, "
                "department = v.department, title = v.title "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) "
                "AS v(user_id, ref, department, title) WHERE du.user_id = v.user_id",
                [
                    [p["user_id"] for p in rows],
                    [p["manager_ref"] for p in rows],
                    [p["department"] for p in rows],
                    [p["title"] for p in rows],
                ],
            )
        return [p["user_id"] for p in rows]

    def _recount(self, previous):
        """What every person's links should be, from the references alone."""
        by_ref = {}
        for person in self.people:
            for key in ("email", "external_id"):
                by_ref[person[key]] = person["user_id"]
            by_ref[str(person["scim_id"])] = person["user_id"]
        teams = {name.lower(): team for name, team in self.teams.items()}
        positions_of = dict(self.teams.values())
        self.issues = 0
        self.expected = {}
        for person in self.people:
            manager_id = by_ref.get(person["manager_ref"])
            old_team, old_position = previous[person["user_id"]][1:]
            team = teams.get(person["department"].strip().lower())
            if team is None:
                self.issues += 1
                team_id = old_team
            else:
                team_id = team[0]
            position_id = positions_of.get(team_id, {}).get(person["title"])
            if position_id is None:
                # No such position, or no team to look in.
                self.issues += 1
                position_id = old_position if team_id == old_team else None
            self.expected[person["user_id"]] = (manager_id, team_id, position_id)

    def check(self):
        """Compare every person's links with the data; a list of differences."""
        from directory.models_links import LinkIssue
        from progression.models import User

        found = {
            pk: (manager, team, position)
            for pk, manager, team, position in User.objects.filter(
                organization=self.organization, source=User.Source.DIRECTORY
            ).values_list("pk", "manager_id", "team_id", "position_id")
        }
        wrong = [pk for pk, links in self.expected.items() if found.get(pk) != links]
        problems = [f"{len(wrong)} people with wrong links"] if wrong else []
        issues = LinkIssue.objects.filter(organization=self.organization).count()
        if issues != self.issues:
            problems.append(f"{issues} issues recorded, {self.issues} expected")
        return problems


def _copy(model, rows):
    from django.db import connection

    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and "id" not in rows[0])
    ]
    columns = [f.column for f in fields]
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        row[f.attname]
                        if f.attname in row
                        else f.get_db_prep_save(f.get_default(), connection)
                        for f in fields
                    ]
                )


def timed(call, *, rollback):
    """Run `call` in a transaction; its time, statements and result."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        with transaction.atomic():
            result = call()
            if rollback:
                transaction.set_rollback(True)
        elapsed = time.perf_counter() - start
    # The transaction's own BEGIN/COMMIT are not statements of the work.
    queries = [
        q for q in captured.captured_queries if q["sql"] not in {"BEGIN", "COMMIT"}
    ]
    if PROFILE:
        for query in sorted(queries, key=lambda q: -float(q["time"]))[:8]:
            first = " ".join(query["sql"].split())[:90]
            print(f"  {float(query['time']):8.3f} s  {first}", file=sys.stderr)
        print(f"  {elapsed:8.3f} s  in all", file=sys.stderr)
    return elapsed, len(queries), result


def vacuum():
    """Clear what a rolled-back run left behind, so runs start alike."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE progression_user, progression_auditevent, "
            "directory_linkissue"
        )


def baseline(organization_id):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(BASELINE_UPDATE, [organization_id])
        return cursor.rowcount


def run(args) -> dict:
    from directory.links import links_resolve

    global PROFILE
    PROFILE = args.profile
    rng = random.Random(args.seed)
    started = time.perf_counter()
    large = Organisation(
        label="Bench Links",
        slug="bench-links",
        size=args.users,
        teams=args.teams,
        rng=rng,
    )
    large.build()
    if args.other:
        other = Organisation(
            label="Bench Other", slug="bench-other", size=args.other, teams=5, rng=rng
        )
        other.build()
        links_resolve(organization=other.organization)
    built = time.perf_counter() - started

    def resolve(user_ids=None):
        return links_resolve(organization=large.organization, user_ids=user_ids)

    baselines, fulls, whole = [], [], []
    for _ in range(args.repeat):
        baselines.append(timed(lambda: baseline(large.organization.pk), rollback=True))
        vacuum()
        fulls.append(timed(resolve, rollback=True))
        vacuum()
    # The last from-scratch run is kept, so the change starts from it.
    fulls.append(timed(resolve, rollback=False))
    vacuum()
    problems = large.check()

    changed_ids = large.change(args.changed)
    vacuum()
    for _ in range(args.repeat):
        whole.append(timed(resolve, rollback=True))
        vacuum()
    subset = timed(lambda: resolve(changed_ids), rollback=False)
    problems += large.check()

    def row(name, runs):
        return {
            "what": name,
            "seconds": round(statistics.median(r[0] for r in runs), 3),
            "statements": max(r[1] for r in runs),
        }

    floor = row("single UPDATE ... FROM, manager column only", baselines)
    full = row("resolution from scratch (manager, team, position)", fulls)
    after_subset = row(f"after {args.changed:.0%} change: the changed people", [subset])
    after_whole = row(f"after {args.changed:.0%} change: whole organisation", whole)
    return {
        "users": args.users,
        "changed_people": len(changed_ids),
        "build_seconds": round(built, 1),
        "baseline_rows": baselines[0][2],
        "rows": [floor, full, after_subset, after_whole],
        "full_over_baseline": round(full["seconds"] / floor["seconds"], 2),
        "subset_over_full": round(after_subset["seconds"] / full["seconds"], 3),
        "people_changed_from_scratch": fulls[-1][2].changed,
        "people_changed_after": subset[2].changed,
        "issues": fulls[-1][2].issues,
        "problems": problems,
    }


def report_print(result) -> None:
    print(
        f"{result['users']:,} people; {result['changed_people']:,} changed for "
        f"the second part; data built in {result['build_seconds']} s"
    )
    print(f"{'what':<58} {'seconds':>8} {'statements':>11}")
    for row in result["rows"]:
        print(f"{row['what']:<58} {row['seconds']:>8.3f} {row['statements']:>11}")
    print(
        f"from scratch / single UPDATE: {result['full_over_baseline']}x "
        f"(target <= 3); changed people / from scratch: "
        f"{result['subset_over_full']} (target <= 0.1)"
    )
    print(
        f"people changed: {result['people_changed_from_scratch']:,} from scratch, "
        f"{result['people_changed_after']:,} after the change; "
        f"open issues {result['issues']:,}"
    )
    for problem in result["problems"]:
        print(f"WRONG: {problem}")


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
        maintenance_url, database_url = server_urls(args.database)
        database_recreate(maintenance_url, args.database)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        django_setup(database_url)
        result = run(args)
    finally:
        if not args.keep:
            database_drop(maintenance_url, args.database)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report_print(result)
    return EXIT_FAILED if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
