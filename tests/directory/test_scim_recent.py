"""Creates on a directory this process read lately, and what makes it read again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import BoltOnPurchase, Subscription
from billing.services.bolt_on import bolt_on_purchase
from billing.services.subscriptions import subscription_set
from directory.models import DirectoryGroup, DirectoryRequest, DirectoryUser
from directory.scim import auth
from directory.scim.errors import DIRECTORY_INACTIVE, UNAUTHORIZED
from directory.services import (
    directory_create,
    directory_scope_set,
    directory_state_set,
    directory_token_rotate,
)
from progression.models import AuditEvent, User
from tests.directory.conftest import ScimClient, user_body


def create(scim, name, **kwargs):
    return scim.post("/Users", user_body(f"{name}@acme.example"), **kwargs)


@pytest.fixture
def kept(scim):
    """A directory whose first create left it kept by this process."""
    assert create(scim, "first").status_code == 201
    return scim


def statements(scim, name, **kwargs):
    """The response and the SQL statements of one create, leaving out the
    savepoints that only the test's own transaction makes."""
    with CaptureQueriesContext(connection) as captured:
        response = create(scim, name, **kwargs)
    sql = [query["sql"] for query in captured.captured_queries]
    return response, [s for s in sql if "SAVEPOINT" not in s]


def test_create_on_kept_directory_is_one_statement(kept):
    response, sql = statements(kept, "ada")

    assert response.status_code == 201
    assert len(sql) == 1
    assert sql[0].startswith('WITH "check" AS (SELECT d."id"')
    person = User.objects.get(email="ada@acme.example")
    assert DirectoryUser.objects.get(user=person).directory == kept.directory
    assert AuditEvent.objects.filter(target_id=str(person.pk)).count() == 1
    assert DirectoryRequest.objects.filter(status=201).count() == 2


def test_first_create_reads_the_directory(scim):
    response, sql = statements(scim, "ada")

    assert response.status_code == 201
    assert len(sql) == 2
    assert sql[0].startswith('SELECT d."id"')


def test_other_requests_read_the_directory_every_time(kept):
    with CaptureQueriesContext(connection) as captured:
        response = kept.get("/Users", filter='userName eq "first@acme.example"')

    assert response.status_code == 200
    assert captured.captured_queries[0]["sql"].startswith('SELECT d."id"')


def test_rotated_token_refuses_the_old_one_at_once(kept):
    new_token = directory_token_rotate(directory=kept.directory, actor="operator")

    refused, sql = statements(kept, "ada")

    assert refused.status_code == 401
    assert refused.json()["detail"] == UNAUTHORIZED
    # The kept directory's check failed, nothing was written, and the fresh
    # read refused the token.
    assert len(sql) == 2
    assert not User.objects.filter(email="ada@acme.example").exists()
    assert DirectoryRequest.objects.count() == 1
    assert create(kept, "ada", token=new_token).status_code == 201


def test_deactivated_directory_refuses_the_next_create(kept):
    directory_state_set(directory=kept.directory, state="inactive", actor="operator")

    response = create(kept, "ada")

    assert response.status_code == 403
    assert response.json()["detail"] == DIRECTORY_INACTIVE
    assert not User.objects.filter(email="ada@acme.example").exists()
    assert list(
        DirectoryRequest.objects.order_by("id").values_list("status", flat=True)
    ) == [201, 403]


def test_plan_change_applies_to_the_next_create(kept):
    # Launch Annual without a bolt-on has no Directory Sync.
    Subscription.objects.filter(organization=kept.directory.organization).update(
        plan="launch", seats=10
    )

    response = create(kept, "ada")

    assert response.status_code == 403
    assert not User.objects.filter(email="ada@acme.example").exists()


@pytest.fixture
def kept_with_bolt_on(client, organization):
    """A kept directory of an organisation whose Directory Sync is a bolt-on."""
    subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=10,
        actor="operator",
    )
    bolt_on_purchase(organization=organization, actor="operator")
    directory, token = directory_create(
        organization=organization, provider="okta-scim-v2", actor="operator"
    )
    scim = ScimClient(client, directory, token)
    assert create(scim, "first").status_code == 201
    return scim


def test_bolt_on_removed_applies_to_the_next_create(kept_with_bolt_on, organization):
    BoltOnPurchase.objects.filter(organization=organization).delete()

    response = create(kept_with_bolt_on, "ada")

    assert response.status_code == 403
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_create_with_bolt_on_on_kept_directory_is_one_statement(kept_with_bolt_on):
    response, sql = statements(kept_with_bolt_on, "ada")

    # The entitlement rests on the bolt-on, read with the directory and kept
    # with it: the create reads neither again.
    assert response.status_code == 201
    assert len(sql) == 1
    assert sql[0].startswith('WITH "check" AS (SELECT d."id"')
    assert User.objects.filter(email="ada@acme.example").exists() is True


def test_group_scope_set_applies_to_the_next_create(kept):
    group = DirectoryGroup.objects.create(directory=kept.directory, display_name="Eng")
    directory_scope_set(directory=kept.directory, groups=[group], actor="operator")

    response = create(kept, "ada")

    # Stored as a directory user, but out of scope: no person.
    assert response.status_code == 201
    assert DirectoryUser.objects.get(user_name="ada@acme.example").user is None
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_wrong_token_on_kept_directory_reads_it_and_is_refused(kept):
    response, sql = statements(kept, "ada", token="wrong")

    assert response.status_code == 401
    assert len(sql) == 1
    assert sql[0].startswith('SELECT d."id"')
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_wrong_token_reads_the_directory_alone(kept_with_bolt_on):
    response, sql = statements(kept_with_bolt_on, "ada", token="wrong")

    # The entitlement, which would read the bolt-ons, is not decided for it.
    assert response.status_code == 401
    assert len(sql) == 1
    assert sql[0].startswith('SELECT d."id"')


def test_conflicting_email_on_kept_directory_is_409(kept, organization):
    User.objects.create(organization=organization, email="ada@acme.example")

    response = create(kept, "ada")

    assert response.status_code == 409
    assert DirectoryUser.objects.filter(user_name="ada@acme.example").count() == 0


def test_kept_directory_is_forgotten_before_the_term_ends(kept, monkeypatch):
    subscription = kept.directory.organization.subscription
    soon = timezone.now() + timedelta(seconds=5)
    # The term's end is one of the instants the entitlement can change at.
    type(subscription).objects.filter(pk=subscription.pk).update(term_end=soon)
    auth.forget_recent(kept.directory.public_id)
    assert create(kept, "second").status_code == 201

    recent = auth._recent[str(kept.directory.public_id)]
    assert recent.until <= soon
    later = soon + timedelta(seconds=1)
    monkeypatch.setattr(auth.timezone, "now", lambda: later)
    request = _request(kept.token)
    assert auth.authenticate_recent(request, kept.directory.public_id) is None


def test_kept_directory_lasts_at_most_recent_seconds(kept, monkeypatch):
    recent = auth._recent[str(kept.directory.public_id)]

    assert recent.until <= timezone.now() + timedelta(seconds=auth.RECENT_SECONDS)
    request = _request(kept.token)
    assert auth.authenticate_recent(request, kept.directory.public_id) is not None
    later = recent.until + timedelta(microseconds=1)
    monkeypatch.setattr(auth.timezone, "now", lambda: later)
    assert auth.authenticate_recent(request, kept.directory.public_id) is None


def _request(token):
    return RequestFactory().post("/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_inactive_user_on_kept_directory_takes_the_general_path(kept):
    body = user_body("ada@acme.example", active=False)

    response = kept.post("/Users", body)

    assert response.status_code == 201
    assert response.json()["active"] is False
    assert DirectoryUser.objects.get(user_name="ada@acme.example").user is None
    assert list(
        DirectoryRequest.objects.order_by("id").values_list("status", flat=True)
    ) == [201, 201]
