import pytest
from django.db import IntegrityError

from directory.models import DirectoryRequest, DirectoryUser
from directory.services import directory_create
from progression import rows
from progression.models import AuditEvent, User
from progression.rows import (
    ChainCheck,
    ChainCheckFailed,
    ChainedRow,
    ChainProbe,
    rows_insert_chained,
)
from tests.factories import UserFactory


@pytest.fixture(params=["one statement", "row by row"])
def chained(request, monkeypatch):
    """Run each test through the PostgreSQL statement and the portable path."""
    if request.param == "row by row":
        monkeypatch.setattr(
            rows,
            "_insert_postgresql",
            lambda chain, check, probes: {
                **rows._probe_each(probes),
                **rows._insert_each(chain),
            },
        )
    return rows_insert_chained


def _chain(organization, email, user_name, directory):
    person = User(organization=organization, email=email, first_name="Ada")
    person.set_unusable_password()
    event = AuditEvent(
        organization=organization, action="user.created", target_type="user"
    )
    record = DirectoryUser(directory=directory, user_name=user_name, email=email)
    entry = DirectoryRequest(directory=directory, method="POST", path="/", status=201)
    return (
        person,
        event,
        record,
        entry,
        [
            ChainedRow("person", person, ignore_conflicts=True),
            ChainedRow("audit", event, refs={"target_id": "person"}),
            ChainedRow("record", record, refs={"user": "person"}),
            ChainedRow("entry", entry, after=("record",)),
        ],
    )


@pytest.fixture
def directory(entitled):
    return directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )[0]


def test_rows_insert_chained_writes_rows_with_earlier_ids(chained, directory):
    person, event, record, entry, chain = _chain(
        directory.organization, "ada@acme.example", "ada", directory
    )

    written = chained(chain)

    assert written == {"person", "audit", "record", "entry"}
    stored = User.objects.get(email="ada@acme.example")
    assert (person.pk, person._state.adding) == (stored.pk, False)
    assert AuditEvent.objects.get(pk=event.pk).target_id == str(stored.pk)
    assert DirectoryUser.objects.get(pk=record.pk).user_id == stored.pk
    assert record.user_id == stored.pk
    assert DirectoryRequest.objects.get(pk=entry.pk).status == 201
    assert stored.has_usable_password() is False
    assert stored.created_at == person.created_at


def test_rows_insert_chained_stamps_its_rows_with_one_instant(directory):
    person, event, record, entry, chain = _chain(
        directory.organization, "ada@acme.example", "ada", directory
    )

    rows_insert_chained(chain)

    stored = User.objects.get(pk=person.pk)
    instants = {
        stored.created_at,
        stored.updated_at,
        AuditEvent.objects.get(pk=event.pk).created_at,
        DirectoryUser.objects.get(pk=record.pk).updated_at,
        DirectoryRequest.objects.get(pk=entry.pk).created_at,
    }
    assert instants == {person.created_at}


def test_rows_insert_chained_conflict_leaves_out_dependent_rows(chained, directory):
    UserFactory(email="ada@acme.example")
    _, event, record, entry, chain = _chain(
        directory.organization, "ADA@acme.example", "ada", directory
    )

    written = chained(chain)

    assert written == set()
    assert (event.pk, record.pk, entry.pk) == (None, None, None)
    assert User.objects.filter(email__iexact="ada@acme.example").count() == 1
    assert DirectoryUser.objects.count() == 0
    assert DirectoryRequest.objects.count() == 0


def test_rows_insert_chained_broken_constraint_writes_nothing(chained, directory):
    DirectoryUser.objects.create(directory=directory, user_name="ada")
    events = AuditEvent.objects.count()
    *_, chain = _chain(directory.organization, "ada@acme.example", "ADA", directory)

    with pytest.raises(IntegrityError):
        chained(chain)

    assert User.objects.filter(email="ada@acme.example").exists() is False
    assert AuditEvent.objects.count() == events
    assert DirectoryUser.objects.count() == 1


def _check_for(directory, name):
    return ChainCheck(
        'SELECT d."id" AS id FROM "directory_directory" d '
        'WHERE d."id" = %s AND d."name" = %s',
        (directory.pk, name),
    )


def test_rows_insert_chained_check_that_holds_writes_the_chain(directory):
    person, event, record, entry, chain = _chain(
        directory.organization, "ada@acme.example", "ada", directory
    )

    written = rows_insert_chained(chain, check=_check_for(directory, directory.name))

    assert written == {"person", "audit", "record", "entry"}
    assert User.objects.filter(email="ada@acme.example").exists()
    assert DirectoryRequest.objects.get(pk=entry.pk).status == 201


def test_rows_insert_chained_check_that_fails_writes_nothing(directory):
    person, event, record, entry, chain = _chain(
        directory.organization, "ada@acme.example", "ada", directory
    )
    events = AuditEvent.objects.count()

    with pytest.raises(ChainCheckFailed):
        rows_insert_chained(chain, check=_check_for(directory, "another name"))

    assert (person.pk, event.pk, record.pk, entry.pk) == (None, None, None, None)
    assert not User.objects.filter(email="ada@acme.example").exists()
    assert AuditEvent.objects.count() == events
    assert DirectoryUser.objects.count() == 0
    assert DirectoryRequest.objects.count() == 0


def test_rows_insert_chained_check_needs_postgresql(directory, monkeypatch):
    *_, chain = _chain(directory.organization, "ada@acme.example", "ada", directory)
    monkeypatch.setattr(rows.connection, "vendor", "sqlite")

    with pytest.raises(NotImplementedError):
        rows_insert_chained(chain, check=_check_for(directory, directory.name))

    assert not User.objects.filter(email="ada@acme.example").exists()


def _probe_for(email):
    return ChainProbe(
        "taken", 'SELECT 1 FROM "progression_user" WHERE "email" = %s', (email,)
    )


def test_rows_insert_chained_probe_reports_a_row_found(chained, directory):
    UserFactory(organization=directory.organization, email="grace@acme.example")
    *_, chain = _chain(directory.organization, "ada@acme.example", "ada", directory)

    written = chained(chain, probes=(_probe_for("grace@acme.example"),))

    assert written == {"person", "audit", "record", "entry", "taken"}


def test_rows_insert_chained_probe_does_not_see_the_chains_rows(chained, directory):
    *_, chain = _chain(directory.organization, "ada@acme.example", "ada", directory)

    written = chained(chain, probes=(_probe_for("ada@acme.example"),))

    assert written == {"person", "audit", "record", "entry"}
    assert User.objects.filter(email="ada@acme.example").exists()


def test_rows_insert_chained_probe_prevents_nothing(chained, directory):
    UserFactory(email="ada@acme.example")
    *_, chain = _chain(directory.organization, "ADA@acme.example", "ada", directory)

    written = chained(chain, probes=(_probe_for("ada@acme.example"),))

    assert written == {"taken"}
    assert DirectoryUser.objects.count() == 0


def test_rows_insert_chained_writes_big_integers_in_json(chained, directory):
    *_, record, _, chain = _chain(
        directory.organization, "ada@acme.example", "ada", directory
    )
    record.attributes = {"employeeNumber": 2**70}

    chained(chain)

    stored = DirectoryUser.objects.get(pk=record.pk)
    assert stored.attributes == {"employeeNumber": 2**70}
