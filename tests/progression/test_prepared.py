import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import DirectoryUser
from directory.scim.auth import _DIRECTORY
from directory.services import directory_create
from progression.prepared import prepared_cursor


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def directory(entitled):
    return directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )


def _create(client, directory, token, user_name):
    return client.post(
        f"/scim/v2/{directory.public_id}/Users",
        data={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "emails": [{"primary": True, "value": user_name}],
            "active": True,
        },
        content_type="application/scim+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_prepared_cursor_prepares_a_statement_once_and_reuses_it(db):
    for value in (1, 2, 3):
        with prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int * 7 AS prepared_probe", [value])
            assert cursor.fetchone() == (value * 7,)

    probes = [s for s in _prepared_statements() if "prepared_probe" in s]
    assert probes == ["SELECT $1::int * 7 AS prepared_probe"]


def test_prepared_cursor_keeps_the_query_log(db):
    with CaptureQueriesContext(connection) as captured:
        with prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int AS logged_probe", [5])

    assert [q["sql"] for q in captured.captured_queries] == [
        "SELECT $1::int AS logged_probe"
    ]


def test_scim_create_prepares_its_lookup_and_its_write(client, directory):
    directory, token = directory

    for name in ("ada@acme.example", "grace@acme.example"):
        assert _create(client, directory, token, name).status_code == 201

    statements = _prepared_statements()
    lookup_sql, _ = _DIRECTORY.compiled
    assert lookup_sql.replace("%s", "$1") in statements
    assert any(s.startswith("WITH ") and '"person" AS (INSERT' in s for s in statements)
    assert DirectoryUser.objects.filter(directory=directory).count() == 2


def test_scim_create_without_prepared_statements_prepares_nothing(
    transactional_db, client, directory, monkeypatch
):
    # A new connection, as with DATABASE_PREPARED_STATEMENTS=0: nothing
    # prepared on it yet, and no threshold.
    directory, token = directory
    connection.close()
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)

    response = _create(client, directory, token, "ada@acme.example")

    assert response.status_code == 201
    assert _prepared_statements() == []
    assert DirectoryUser.objects.get(directory=directory).user.email == (
        "ada@acme.example"
    )
