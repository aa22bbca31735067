"""Drop the single-column indexes on a person's organisation and team.

The composite indexes `user_org_name_idx` and `user_team_name_idx` start with
those columns and serve every lookup and cascade by them, so the separate
indexes only cost each insert. Only the indexes go: the foreign keys stay as
they are, without the full-table check that altering them would run.
"""

import django.db.models.deletion
from django.db import migrations, models

COVERED = [
    ("progression_user_organization_id_a2f05aa6", "organization_id"),
    ("progression_user_team_id_d6e8d98f", "team_id"),
]


class Migration(migrations.Migration):
    dependencies = [("progression", "0002_tenancy_keys_and_search")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    f"CREATE INDEX {name} ON progression_user ({column})",
                )
                for name, column in COVERED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="users",
                        to="progression.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="members",
                        to="progression.team",
                    ),
                ),
            ],
        )
    ]
