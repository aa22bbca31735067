"""The SQL statements of link resolution, each one set-based.

`directory/links.py` says what they compute and runs them in order, in one
transaction; each function here is one step and leaves its result in a
temporary table for the next: `link_covered` (the people a run answers for),
`link_scope` (those of them the directory decides, with their references),
`link_desired` (the links they should have and why one cannot be made) and
`link_issues_new`. Two more decide when a run is needed at all: the probe a
create asks whether anyone names the new person as manager, and the sweep's
search for unmatched managers who now exist. The statements run on
PostgreSQL and on SQLite (the embedded default); the few differences are in
the helpers at the top.
"""

# Every statement is built from the models' own table names; every value is a
# query parameter.
# ruff: noqa: S608

import json
import logging

from django.db import connection

from directory.models import Directory, DirectoryUser
from directory.models_links import LinkIssue
from progression.models import AuditEvent, Position, Team, User
from progression.rows import ChainProbe

logger = logging.getLogger(__name__)

AUDIT_ACTION = "user.links_resolved"
# Loops the new links would close are removed one round at a time; a round
# can only reveal another loop when several new links meet, so two or three
# rounds are the most any real directory needs.
_MAX_LOOP_ROUNDS = 10
_UUID_PATTERN = r"^\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?$"
TEMPORARY_TABLES = ("link_covered", "link_scope", "link_desired", "link_issues_new")

USERS = User._meta.db_table
DIRECTORIES = Directory._meta.db_table
DIRECTORY_USERS = DirectoryUser._meta.db_table
TEAMS = Team._meta.db_table
POSITIONS = Position._meta.db_table
AUDIT = AuditEvent._meta.db_table
ISSUES = LinkIssue._meta.db_table


def _ids_source(user_ids, name: str) -> tuple[str, object]:
    """A SELECT of the given ids as a column `id`, and its parameter `name`."""
    ids = sorted({int(pk) for pk in user_ids})
    if connection.vendor == "postgresql":
        return f"SELECT unnest(%({name})s::bigint[]) AS id", ids
    return f"SELECT CAST(value AS integer) AS id FROM json_each(%({name})s)", (
        json.dumps(ids)
    )


def _json_changed(pairs: list[tuple[str, str, str]]) -> str:
    """An SQL expression for a JSON object holding only the keys that changed.

    `pairs` are (condition, key, value expression).
    """
    if connection.vendor == "postgresql":
        parts = [
            f"CASE WHEN {cond} THEN jsonb_build_object('{key}', {value}) "
            "ELSE '{}'::jsonb END"
            for cond, key, value in pairs
        ]
        return " || ".join(parts)
    expression = "json('{}')"
    for cond, key, value in pairs:
        expression = (
            f"CASE WHEN {cond} THEN json_set({expression}, '$.{key}', {value}) "
            f"ELSE {expression} END"
        )
    return expression


def _scim_id_of(expression: str) -> str:
    """SQL comparing equal to a `scim_id` column when `expression` is that id.

    On PostgreSQL the reference is cast to a uuid (only when it looks like
    one), so the unique index on `scim_id` serves the lookup.
    """
    if connection.vendor == "postgresql":
        return (
            f"CASE WHEN {expression} ~ '{_UUID_PATTERN}' "
            f"THEN CAST({expression} AS uuid) END"
        )
    # SQLite keeps UUIDs as 32 hexadecimal digits.
    return f"replace(lower({expression}), '-', '')"


# A manager reference as it is compared with the names a person goes by:
# without surrounding spaces, case or hyphens. An index on the directory
# users' table serves this expression.
_MANAGER_NAME = "replace(lower(trim(du.manager_ref)), '-', '')"


def manager_named_probe(
    *, directory_id: int, email: str, external_id: str
) -> ChainProbe:
    """A probe for anyone whose manager reference names a person being created.

    The person will have `email`, and in `directory_id` the directory's own
    id `external_id`; a reference names them as a run near them would find
    it (see `_covered_near_create`). Their SCIM id is drawn at creation, so no
    earlier reference can hold it.

    The references are looked up by the index on their normalised form alone,
    fenced off from the rest of the query, so that the plan PostgreSQL keeps
    for the prepared statement cannot turn into a scan of a directory's
    users as they grow. An email is no one else's anywhere, so a reference
    to it from another organisation (which a run would never link) is not
    ruled out here; it costs one needless run.
    """
    fence = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    return ChainProbe(
        "named_as_manager",
        f"WITH refs AS {fence}("
        f"SELECT du.directory_id, {_MANAGER_NAME} AS name "
        f"FROM {DIRECTORY_USERS} du "
        f"WHERE du.manager_ref <> '' AND du.user_id IS NOT NULL "
        f"AND {_MANAGER_NAME} IN ("
        f"replace(lower(%s), '-', ''), replace(lower(%s), '-', ''))) "
        f"SELECT 1 FROM refs "
        f"WHERE refs.name = replace(lower(%s), '-', '') OR refs.directory_id = %s "
        f"LIMIT 1",
        (email, external_id or None, email, directory_id),
    )


def unmatched_now_named(cursor) -> dict[int, list[int]]:
    """People, by organisation, whose manager matched no one and now may.

    An open "no person matches" issue whose reference is now the email of a
    person of the organisation, or the own id of a live directory user of
    the same directory. A run near the new person resolves these at once; this
    finds any that a run missed because the person's statement and the run
    crossed.
    """
    cursor.execute(
        f"""
        SELECT i.organization_id, i.user_id FROM {ISSUES} i
        JOIN {DIRECTORY_USERS} q ON q.id = i.directory_user_id
        WHERE i.kind = 'manager' AND i.code = 'manager_unmatched'
          AND (
            EXISTS (
                SELECT 1 FROM {USERS} m
                WHERE m.organization_id = i.organization_id
                  AND lower(m.email) = lower(i.value)
            )
            OR EXISTS (
                SELECT 1 FROM {DIRECTORY_USERS} du
                WHERE du.directory_id = q.directory_id
                  AND du.deleted_at IS NULL AND du.external_id = i.value
            )
          )
        ORDER BY i.organization_id, i.user_id
        """
    )
    named: dict[int, list[int]] = {}
    for organization_id, user_id in cursor.fetchall():
        named.setdefault(organization_id, []).append(user_id)
    return named


def _analyze(cursor, table: str) -> None:
    # Temporary tables get no statistics unless asked; without them the
    # planner guesses row counts and picks nested loops over large tables.
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


def drop_temp_tables(cursor) -> None:
    for name in TEMPORARY_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def covered_create(cursor, organization_id: int, user_ids) -> None:
    """The people this run answers for: everyone, or those near the changed.

    Near means: the changed people, their reports, whoever's manager reference
    could name one of them, and everyone with an open manager issue (a
    reference that matched nothing, or a loop, may match now).
    """
    if user_ids is None:
        cursor.execute(
            f"CREATE TEMP TABLE link_covered AS "
            f"SELECT id AS user_id FROM {USERS} WHERE organization_id = %s",
            [organization_id],
        )
    else:
        _covered_near_create(cursor, organization_id, user_ids)
    cursor.execute("CREATE UNIQUE INDEX link_covered_user ON link_covered (user_id)")
    _analyze(cursor, "link_covered")


def _covered_near_create(cursor, organization_id: int, user_ids) -> None:
    ids_sql, ids = _ids_source(user_ids, "ids")
    cursor.execute(
        f"""
        CREATE TEMP TABLE link_covered AS
        WITH changed AS (
            SELECT u.id FROM {USERS} u JOIN ({ids_sql}) c ON c.id = u.id
            WHERE u.organization_id = %(org)s
        ),
        names AS (
            SELECT du.directory_id, replace(lower(CAST(du.scim_id AS text)), '-', '')
                AS name
            FROM {DIRECTORY_USERS} du JOIN changed c ON c.id = du.user_id
            UNION ALL
            SELECT du.directory_id, replace(lower(du.external_id), '-', '')
            FROM {DIRECTORY_USERS} du JOIN changed c ON c.id = du.user_id
            WHERE du.external_id <> ''
            UNION ALL
            SELECT NULL, replace(lower(u.email), '-', '')
            FROM {USERS} u JOIN changed c ON c.id = u.id
        )
        SELECT id AS user_id FROM changed
        UNION
        SELECT u.id FROM {USERS} u JOIN changed c ON u.manager_id = c.id
        UNION
        SELECT du.user_id
        FROM {DIRECTORY_USERS} du
        JOIN {DIRECTORIES} d ON d.id = du.directory_id AND d.organization_id = %(org)s
        JOIN names n ON n.name = {_MANAGER_NAME}
            AND (n.directory_id IS NULL OR n.directory_id = du.directory_id)
        WHERE du.user_id IS NOT NULL AND du.manager_ref <> ''
        UNION
        SELECT user_id FROM {ISSUES}
        WHERE organization_id = %(org)s AND kind = 'manager'
        """,
        {"org": organization_id, "ids": ids},
    )


def scope_create(cursor, organization_id: int) -> int:
    """The covered people whose links the directory decides, with references."""
    cursor.execute(
        f"""
        CREATE TEMP TABLE link_scope AS
        SELECT u.id AS user_id, du.id AS directory_user_id, du.directory_id,
               trim(du.manager_ref) AS manager_ref,
               trim(du.department) AS department,
               trim(du.title) AS title,
               u.manager_id, u.team_id, u.position_id
        FROM {DIRECTORY_USERS} du
        JOIN {DIRECTORIES} d ON d.id = du.directory_id
        JOIN {USERS} u ON u.id = du.user_id
        JOIN link_covered c ON c.user_id = u.id
        WHERE d.organization_id = %(org)s AND u.organization_id = %(org)s
          AND du.deleted_at IS NULL AND u.status = 'active'
        """,
        {"org": organization_id},
    )
    cursor.execute("CREATE INDEX link_scope_user ON link_scope (user_id)")
    _analyze(cursor, "link_scope")
    cursor.execute("SELECT count(*) FROM link_scope")
    return cursor.fetchone()[0]


def desired_create(cursor, organization_id: int) -> None:
    """The links each person in scope should have, and why one cannot be made."""
    cursor.execute(
        f"""
        CREATE TEMP TABLE link_desired AS
        WITH candidates AS (
            SELECT s.user_id, 1 AS rank, du.user_id AS target
            FROM link_scope s JOIN {DIRECTORY_USERS} du
              ON du.directory_id = s.directory_id AND du.deleted_at IS NULL
             AND du.scim_id = {_scim_id_of("s.manager_ref")}
            WHERE s.manager_ref <> ''
            UNION ALL
            SELECT s.user_id, 2, du.user_id
            FROM link_scope s JOIN {DIRECTORY_USERS} du
              ON du.directory_id = s.directory_id AND du.deleted_at IS NULL
             AND du.external_id = s.manager_ref
            WHERE s.manager_ref <> ''
            UNION ALL
            SELECT s.user_id, 3, m.id
            FROM link_scope s JOIN {USERS} m
              ON m.organization_id = %(org)s
             AND lower(m.email) = lower(s.manager_ref)
            WHERE s.manager_ref LIKE '%%@%%'
        ),
        per_rank AS (
            SELECT user_id, rank, count(*) AS matches,
                   count(target) AS provisioned, min(target) AS target
            FROM candidates GROUP BY user_id, rank
        ),
        best AS (
            SELECT * FROM (
                SELECT per_rank.*, row_number() OVER (
                    PARTITION BY user_id ORDER BY rank
                ) AS pick
                FROM per_rank
            ) ranked WHERE pick = 1
        ),
        manager AS (
            SELECT s.*,
                CASE
                    WHEN s.manager_ref = '' THEN NULL
                    WHEN b.user_id IS NULL THEN 'manager_unmatched'
                    WHEN b.matches > 1 THEN 'manager_ambiguous'
                    WHEN b.provisioned = 0 THEN 'manager_unprovisioned'
                    WHEN b.target = s.user_id THEN 'manager_self'
                    WHEN m.status <> 'active' THEN 'manager_archived'
                END AS manager_issue,
                b.target AS manager_match
            FROM link_scope s
            LEFT JOIN best b ON b.user_id = s.user_id
            LEFT JOIN {USERS} m ON m.id = b.target
        ),
        team AS (
            SELECT manager.*,
                CASE
                    WHEN manager_ref = '' THEN NULL
                    WHEN manager_issue IS NULL THEN manager_match
                    ELSE manager_id
                END AS new_manager,
                CASE
                    WHEN department = '' THEN team_id
                    WHEN t.id IS NULL THEN team_id
                    ELSE t.id
                END AS new_team,
                CASE
                    WHEN department <> '' AND t.id IS NULL THEN 'team_unmatched'
                END AS team_issue
            FROM manager
            LEFT JOIN {TEAMS} t ON t.organization_id = %(org)s
             AND lower(trim(t.name)) = lower(department)
        )
        SELECT team.user_id, team.directory_user_id, team.directory_id,
               team.manager_ref, team.department, team.title,
               team.manager_id, team.team_id, team.position_id,
               team.new_manager, team.manager_issue,
               team.new_team, team.team_issue,
               CASE
                   WHEN p.id IS NOT NULL THEN p.id
                   WHEN team.new_team IS NOT DISTINCT FROM team.team_id
                       THEN team.position_id
               END AS new_position,
               CASE
                   WHEN team.title = '' OR p.id IS NOT NULL THEN NULL
                   WHEN team.new_team IS NULL THEN 'position_no_team'
                   ELSE 'position_unmatched'
               END AS position_issue,
               nt.name AS new_team_name
        FROM team
        LEFT JOIN {POSITIONS} p ON p.team_id = team.new_team AND team.title <> ''
         AND lower(trim(p.name)) = lower(team.title)
        LEFT JOIN {TEAMS} nt ON nt.id = team.new_team
        """,
        {"org": organization_id},
    )
    cursor.execute("CREATE INDEX link_desired_user ON link_desired (user_id)")
    _analyze(cursor, "link_desired")


def loops_refuse(cursor) -> int:
    """Keep the current manager of whoever's new manager would close a loop.

    The graph walked is the one the run would leave: new managers for the
    people in scope, current managers for everyone else. Walking up from each
    new link, a loop is found when the walk comes back to where it started.
    """
    refused = 0
    for _round in range(_MAX_LOOP_ROUNDS):
        cursor.execute(
            f"""
            UPDATE link_desired
            SET new_manager = manager_id, manager_issue = 'manager_loop'
            WHERE user_id IN (
                WITH RECURSIVE walk (start, current) AS (
                    SELECT user_id, new_manager FROM link_desired
                    WHERE new_manager IS NOT NULL
                      AND new_manager IS DISTINCT FROM manager_id
                    UNION
                    SELECT walk.start,
                        CASE WHEN d.user_id IS NULL THEN u.manager_id
                             ELSE d.new_manager END
                    FROM walk
                    JOIN {USERS} u ON u.id = walk.current
                    LEFT JOIN link_desired d ON d.user_id = walk.current
                    WHERE walk.current <> walk.start
                )
                SELECT start FROM walk WHERE current = start
            )
            """
        )
        if cursor.rowcount <= 0:
            break
        refused += cursor.rowcount
    else:
        logger.error("link resolution left a loop after %s rounds", _MAX_LOOP_ROUNDS)
    return refused


def changes_apply(cursor, organization_id: int, now) -> int:
    """Write the links that change, and one audit event for each person."""
    changed = (
        "(d.new_manager IS DISTINCT FROM d.manager_id"
        " OR d.new_team IS DISTINCT FROM d.team_id"
        " OR d.new_position IS DISTINCT FROM d.position_id)"
    )
    before = _json_changed(
        [
            ("d.new_manager IS DISTINCT FROM d.manager_id", "manager", "om.email"),
            ("d.new_team IS DISTINCT FROM d.team_id", "team", "ot.name"),
            ("d.new_position IS DISTINCT FROM d.position_id", "position", "op.name"),
        ]
    )
    after = _json_changed(
        [
            ("d.new_manager IS DISTINCT FROM d.manager_id", "manager", "nm.email"),
            ("d.new_team IS DISTINCT FROM d.team_id", "team", "nt.name"),
            ("d.new_position IS DISTINCT FROM d.position_id", "position", "np.name"),
        ]
    )
    cursor.execute(
        f"""
        INSERT INTO {AUDIT} (organization_id, actor_id, actor_label, action,
            target_type, target_id, target_label, before, after, created_at)
        SELECT %(org)s, NULL, 'directory:' || CAST(d.directory_id AS text),
            %(action)s, 'user', CAST(d.user_id AS text),
            substr(CASE WHEN trim(u.first_name || ' ' || u.last_name) = ''
                THEN u.email ELSE trim(u.first_name || ' ' || u.last_name) END,
                1, 300),
            {before}, {after}, %(now)s
        FROM link_desired d
        JOIN {USERS} u ON u.id = d.user_id
        LEFT JOIN {USERS} om ON om.id = d.manager_id
        LEFT JOIN {USERS} nm ON nm.id = d.new_manager
        LEFT JOIN {TEAMS} ot ON ot.id = d.team_id
        LEFT JOIN {TEAMS} nt ON nt.id = d.new_team
        LEFT JOIN {POSITIONS} op ON op.id = d.position_id
        LEFT JOIN {POSITIONS} np ON np.id = d.new_position
        WHERE {changed}
        """,
        {"org": organization_id, "action": AUDIT_ACTION, "now": now},
    )
    cursor.execute(
        f"""
        UPDATE {USERS}
        SET manager_id = d.new_manager, team_id = d.new_team,
            position_id = d.new_position, updated_at = %(now)s
        FROM link_desired d
        WHERE {USERS}.id = d.user_id AND {USERS}.organization_id = %(org)s
          AND {changed}
        """,
        {"org": organization_id, "now": now},
    )
    return max(cursor.rowcount, 0)


def issues_replace(cursor, organization_id: int, now) -> int:
    """Bring the open issues of the covered people in line with this run.

    An issue found again keeps its row, and with it the time it first appeared.
    """
    cursor.execute(
        """
        CREATE TEMP TABLE link_issues_new AS
        SELECT user_id, directory_user_id, 'manager' AS kind,
               manager_issue AS code, manager_ref AS value, '' AS team_name
        FROM link_desired WHERE manager_issue IS NOT NULL
        UNION ALL
        SELECT user_id, directory_user_id, 'team', team_issue, department, ''
        FROM link_desired WHERE team_issue IS NOT NULL
        UNION ALL
        SELECT user_id, directory_user_id, 'position', position_issue, title,
               coalesce(new_team_name, '')
        FROM link_desired WHERE position_issue IS NOT NULL
        """
    )
    cursor.execute("CREATE INDEX link_issues_new_user ON link_issues_new (user_id)")
    _analyze(cursor, "link_issues_new")
    cursor.execute(
        f"""
        DELETE FROM {ISSUES}
        WHERE organization_id = %(org)s
          AND user_id IN (SELECT user_id FROM link_covered)
          AND NOT EXISTS (
              SELECT 1 FROM link_issues_new n
              WHERE n.user_id = {ISSUES}.user_id AND n.kind = {ISSUES}.kind
                AND n.code = {ISSUES}.code AND n.value = {ISSUES}.value
                AND n.directory_user_id = {ISSUES}.directory_user_id
                AND n.team_name = {ISSUES}.team_name
          )
        """,
        {"org": organization_id},
    )
    cursor.execute(
        f"""
        INSERT INTO {ISSUES} (organization_id, directory_user_id, user_id, kind,
            code, value, team_name, created_at)
        SELECT %(org)s, n.directory_user_id, n.user_id, n.kind, n.code, n.value,
               n.team_name, %(now)s
        FROM link_issues_new n
        WHERE NOT EXISTS (
            SELECT 1 FROM {ISSUES} i WHERE i.user_id = n.user_id AND i.kind = n.kind
        )
        """,
        {"org": organization_id, "now": now},
    )
    cursor.execute(
        f"SELECT count(*) FROM {ISSUES} WHERE organization_id = %s", [organization_id]
    )
    return cursor.fetchone()[0]
