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
directory, token = directory_create(
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

# The same through SCIM, as production serves it.
import json
from tests.wsgi import wsgi_call

def scim(method, path, document=None, query=""):
    status, _, content = wsgi_call(
        method,
        f"/scim/v2/{directory.public_id}{path}",
        body=json.dumps(document).encode() if document else b"",
        query=query,
        headers={
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_TYPE": "application/scim+json",
        },
    )
    return status, content

status, content = scim("POST", "/Users", {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "grace@acme.example",
    "emails": [{"primary": True, "value": "grace@acme.example"}],
})
print("create", status)
status, content = scim(
    "GET", "/Users", query="filter=userName%20eq%20%22grace@acme.example%22"
)
print("list", status, json.loads(content)["totalResults"])
"""


def test_embedded_provisions_and_serves_scim(tmp_path):
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
    assert result.stdout.split()[-7:] == [
        "manager",
        "True",
        "create",
        "201",
        "list",
        "200",
        "1",
    ]
