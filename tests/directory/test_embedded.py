"""Provisioning in the embedded default: SQLite, no Redis, tasks in-process.

The rest of the suite runs on PostgreSQL; this runs a fresh process on a
SQLite database of its own, so the statements that differ by database are
tried on both.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)

from billing.services.subscriptions import subscription_set
from directory.provisioning import Record, directory_user_create
from directory.services import directory_create
from progression.services.organizations import organization_create

organization = organization_create(name="Acme", slug="acme")
subscription_set(
    organization=organization, plan="scale", period="annual", seats=50,
    actor="operator",
)
directory, _ = directory_create(
    organization=organization, provider="okta-scim-v2", actor="operator"
)
report = directory_user_create(directory=directory, record=Record(
    user_name="ada", email="ada@acme.example", manager_ref="Boss@acme.example",
))
boss = directory_user_create(directory=directory, record=Record(
    user_name="boss", email="boss@acme.example",
))
report.user.refresh_from_db()
print("manager", report.user.manager_id == boss.user_id)
"""


def test_embedded_create_links_a_manager_who_arrives_later(tmp_path):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    }
    env = {
        **clean,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "progression.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["manager", "True"]
