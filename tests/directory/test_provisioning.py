import pytest

from directory.models import DirectoryGroup, DirectoryMembership
from directory.provisioning import (
    EMAIL_TAKEN,
    REASON_DELETED,
    USER_NAME_TAKEN,
    Record,
    directory_reconcile,
    directory_user_create,
    directory_user_delete,
    directory_user_update,
)
from directory.services import (
    PROVIDER_UNKNOWN,
    SCOPE_GROUP_OTHER_DIRECTORY,
    directory_create,
    directory_scope_set,
    directory_token_rotate,
    token_digest,
)
from progression.errors import (
    ConflictError,
    CrossOrganizationError,
    ValidationFailedError,
)
from progression.models import User
from progression.services.people import user_archive
from tests.factories import UserFactory


@pytest.fixture
def directory(entitled):
    directory, _ = directory_create(
        organization=entitled, provider="generic-scim-v2", actor="operator"
    )
    return directory


def ada(**changes):
    fields = {
        "user_name": "ada",
        "email": "ada@acme.example",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    fields.update(changes)
    return Record(**fields)


def test_create_in_scope_creates_directory_person(directory):
    record = directory_user_create(directory=directory, record=ada(title="Analyst"))

    assert record.user.source == User.Source.DIRECTORY
    assert record.user.status == User.Status.ACTIVE
    assert record.title == "Analyst"


def test_create_inactive_stores_record_but_creates_no_one(directory):
    record = directory_user_create(directory=directory, record=ada(active=False))

    assert record.user is None
    assert User.objects.filter(email="ada@acme.example").exists() is False


def test_create_without_email_waits_until_one_arrives(directory):
    record = directory_user_create(
        directory=directory, record=ada(user_name="ada", email="")
    )
    pending = record.user

    directory_user_update(directory_user=record, record=ada(email="ada@acme.example"))

    assert pending is None
    assert record.user.email == "ada@acme.example"


def test_update_email_keeps_the_same_person(directory):
    record = directory_user_create(directory=directory, record=ada())
    person = record.user

    directory_user_update(
        directory_user=record, record=ada(email="augusta@acme.example")
    )

    person.refresh_from_db()
    assert record.user.pk == person.pk
    assert person.email == "augusta@acme.example"


def test_update_to_user_name_of_other_record_is_conflict(directory):
    directory_user_create(directory=directory, record=ada())
    bob = directory_user_create(
        directory=directory, record=ada(user_name="bob", email="bob@acme.example")
    )

    with pytest.raises(ConflictError, match=USER_NAME_TAKEN):
        directory_user_update(
            directory_user=bob, record=ada(user_name="ADA", email="bob@acme.example")
        )


def test_archived_namesake_of_same_organization_comes_back(directory):
    former = UserFactory(organization=directory.organization, email="ada@acme.example")
    user_archive(user=former, reason="left", actor="operator")

    record = directory_user_create(directory=directory, record=ada())

    former.refresh_from_db()
    assert record.user.pk == former.pk
    assert former.status == User.Status.ACTIVE


def test_namesake_linked_to_another_directory_is_conflict(directory, entitled):
    other, _ = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    elsewhere = directory_user_create(directory=other, record=ada())
    user_archive(user=elsewhere.user, reason="test", actor="operator")

    with pytest.raises(ConflictError, match=EMAIL_TAKEN):
        directory_user_create(directory=directory, record=ada())


def test_delete_archives_and_a_later_create_finds_the_same_account(directory):
    record = directory_user_create(directory=directory, record=ada())
    person = record.user

    directory_user_delete(directory_user=record)
    person.refresh_from_db()
    archived = (person.status, person.archived_reason)
    again = directory_user_create(directory=directory, record=ada())

    assert archived == (User.Status.ARCHIVED, REASON_DELETED)
    assert again.user.pk == person.pk
    assert again.user.status == User.Status.ACTIVE


def test_directory_reconcile_skips_a_conflict_and_continues(directory):
    first = directory_user_create(directory=directory, record=ada(active=False))
    directory_user_create(
        directory=directory,
        record=ada(user_name="bob", email="bob@acme.example", active=False),
    )
    UserFactory(organization=directory.organization, email="ada@acme.example")
    type(first).objects.filter(directory=directory).update(active=True)

    directory_reconcile(directory=directory)

    assert User.objects.get(email="bob@acme.example").status == User.Status.ACTIVE
    first.refresh_from_db()
    assert first.user is None


def test_directory_create_unknown_provider_refused(entitled):
    with pytest.raises(ValidationFailedError, match=PROVIDER_UNKNOWN):
        directory_create(organization=entitled, provider="bamboo", actor="operator")


def test_directory_create_hr_provider_gets_no_scim_token(entitled):
    with pytest.raises(ValidationFailedError, match=PROVIDER_UNKNOWN):
        directory_create(organization=entitled, provider="bamboohr", actor="operator")

    assert entitled.directories.exists() is False


def test_token_rotate_replaces_digest(directory):
    before = directory.token_hash

    token = directory_token_rotate(directory=directory, actor="operator")

    assert directory.token_hash == token_digest(token) != before


def test_scope_group_of_other_directory_refused(directory, entitled):
    other, _ = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    group = DirectoryGroup.objects.create(directory=other, display_name="X")

    with pytest.raises(CrossOrganizationError, match=SCOPE_GROUP_OTHER_DIRECTORY):
        directory_scope_set(directory=directory, groups=[group], actor="operator")

    assert directory.scope_groups.count() == 0


def test_scope_then_everyone_again_restores_access(directory):
    record = directory_user_create(directory=directory, record=ada())
    group = DirectoryGroup.objects.create(directory=directory, display_name="Eng")
    directory_scope_set(directory=directory, groups=[group], actor="operator")
    record.refresh_from_db()
    archived = record.user.status
    DirectoryMembership.objects.create(group=group, directory_user=record)

    directory_scope_set(directory=directory, groups=[], actor="operator")

    record.refresh_from_db()
    assert archived == User.Status.ARCHIVED
    assert record.user.status == User.Status.ACTIVE
