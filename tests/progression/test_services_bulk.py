"""The set-based user services: same rules as the single forms, one audit each."""

from progression.errors import ConflictError, ValidationFailedError
from progression.models import AuditEvent, User
from progression.services.bulk import (
    users_archive_bulk,
    users_create_bulk,
    users_reactivate_bulk,
    users_update_bulk,
)
from tests.factories import AdminFactory, UserFactory


def test_users_create_bulk_creates_with_one_audit_event_each(organization):
    people = [
        {"email": "ada@ACME.example", "first_name": " Ada ", "last_name": "L"},
        {"email": "grace@acme.example", "first_name": "Grace", "last_name": "H"},
    ]

    results = users_create_bulk(
        organization=organization,
        people=people,
        source=User.Source.DIRECTORY,
        actor="directory:1",
    )

    assert [user.email for user in results] == [
        "ada@acme.example",
        "grace@acme.example",
    ]
    ada = User.objects.get(email="ada@acme.example")
    assert (ada.first_name, ada.source, ada.has_usable_password()) == (
        "Ada",
        User.Source.DIRECTORY,
        False,
    )
    events = AuditEvent.objects.filter(action="user.created").order_by("id")
    assert [e.target_id for e in events] == [str(u.pk) for u in results]
    assert events[0].actor_label == "directory:1"
    assert events[0].after["email"] == "ada@acme.example"


def test_users_create_bulk_refuses_taken_invalid_and_repeated_emails(
    organization, other_organization
):
    UserFactory(organization=other_organization, email="taken@acme.example")
    people = [
        {"email": "TAKEN@acme.example"},
        {"email": "not an email"},
        {"email": "new@acme.example"},
        {"email": "new@acme.example"},
    ]

    results = users_create_bulk(organization=organization, people=people)

    assert isinstance(results[0], ConflictError)
    assert isinstance(results[1], ValidationFailedError)
    assert results[2].email == "new@acme.example"
    assert isinstance(results[3], ConflictError)
    assert User.objects.filter(organization=organization).count() == 1
    assert AuditEvent.objects.filter(action="user.created").count() == 1


def test_users_update_bulk_writes_only_differences(organization):
    ada = UserFactory(organization=organization, email="ada@acme.example")
    grace = UserFactory(organization=organization, first_name="Grace")

    results = users_update_bulk(
        changes=[
            (ada, {"email": "ada.l@acme.example", "first_name": ada.first_name}),
            (grace, {"first_name": "Grace"}),
        ],
        actor="operator",
    )

    assert results == [ada, grace]
    ada.refresh_from_db()
    assert ada.email == "ada.l@acme.example"
    (event,) = AuditEvent.objects.filter(action="user.updated")
    assert (event.target_id, event.before, event.after) == (
        str(ada.pk),
        {"email": "ada@acme.example"},
        {"email": "ada.l@acme.example"},
    )


def test_users_update_bulk_refuses_an_email_someone_else_holds(organization):
    ada = UserFactory(organization=organization, email="ada@acme.example")
    UserFactory(organization=organization, email="grace@acme.example")

    (result,) = users_update_bulk(
        changes=[(ada, {"email": "Grace@acme.example"})], actor="operator"
    )

    assert isinstance(result, ConflictError)
    ada.refresh_from_db()
    assert ada.email == "ada@acme.example"
    assert AuditEvent.objects.filter(action="user.updated").count() == 0


def test_users_archive_bulk_then_reactivate_bulk(organization):
    ada, grace = UserFactory.create_batch(2, organization=organization)

    users_archive_bulk(
        archives=[(ada, "Gone."), (grace, "Gone too.")], actor="operator"
    )
    archived_again = users_archive_bulk(archives=[(ada, "Gone.")], actor="operator")
    users_reactivate_bulk(users=[ada], actor="operator")

    ada.refresh_from_db()
    grace.refresh_from_db()
    assert archived_again == [ada]
    assert (ada.status, ada.archived_at, ada.archived_reason) == ("active", None, "")
    assert (grace.status, grace.archived_reason) == ("archived", "Gone too.")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "target_id"))
    assert actions == [
        ("user.archived", str(ada.pk)),
        ("user.archived", str(grace.pk)),
        ("user.reactivated", str(ada.pk)),
    ]


def test_users_archive_bulk_keeps_the_last_admin(organization):
    admin = AdminFactory(organization=organization)
    member = UserFactory(organization=organization)

    results = users_archive_bulk(
        archives=[(admin, "x"), (member, "x")], actor="operator"
    )

    assert isinstance(results[0], ValidationFailedError)
    assert results[1] == member
    admin.refresh_from_db()
    assert admin.status == User.Status.ACTIVE
