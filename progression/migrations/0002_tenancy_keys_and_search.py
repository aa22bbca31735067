"""PostgreSQL-only guarantees: composite foreign keys and trigram search indexes.

The composite keys make the database itself refuse a user linked to a team or
manager of another organisation, or to a position outside the user's team. A
NULL in any column of a key skips it (MATCH SIMPLE), so unlinked users pass.
SQLite cannot add such keys to an existing table; there the services' checks
are the only guard, which is why the test suite runs on PostgreSQL.

The trigram indexes serve the People page search, which Django renders as
`UPPER(column) LIKE UPPER('%term%')`.
"""

from django.db import migrations

FOREIGN_KEYS = [
    (
        "user_team_same_organization",
        "(team_id, organization_id)",
        "progression_team (id, organization_id)",
    ),
    (
        "user_position_same_team",
        "(position_id, team_id)",
        "progression_position (id, team_id)",
    ),
    (
        "user_manager_same_organization",
        "(manager_id, organization_id)",
        "progression_user (id, organization_id)",
    ),
]
SEARCH_COLUMNS = ["first_name", "last_name", "email"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, columns, target in FOREIGN_KEYS:
        schema_editor.execute(
            f"ALTER TABLE progression_user ADD CONSTRAINT {name} "
            f"FOREIGN KEY {columns} REFERENCES {target} "
            "ON DELETE NO ACTION DEFERRABLE INITIALLY IMMEDIATE"
        )
    for column in SEARCH_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX user_{column}_trgm_idx ON progression_user "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCH_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS user_{column}_trgm_idx")
    for name, _, _ in FOREIGN_KEYS:
        schema_editor.execute(
            f"ALTER TABLE progression_user DROP CONSTRAINT IF EXISTS {name}"
        )


class Migration(migrations.Migration):
    dependencies = [("progression", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
