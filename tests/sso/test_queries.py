"""The sign-in's lookups compiled once per process, against what the ORM reads."""

import pytest
from django.http import Http404
from django.urls import set_script_prefix
from django.utils import timezone

from billing.models import Subscription
from sso import signin
from sso.models import Connection, Identity, LoginAttempt
from sso.services.attempts import attempt_record
from sso.services.connections import connection_create, connection_keypair_generate
from sso.signin import VerifiedIdentity
from sso.views import protocol
from tests.factories import OrganizationFactory, UserFactory
from tests.sso.test_saml import make_connection


@pytest.fixture
def connection(settings, entitled):
    settings.PUBLIC_BASE_URL = "https://progression.example"
    connection = make_connection(entitled)
    return connection_keypair_generate(connection=connection, actor="operator")


def _fields(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
    }


def test_connection_lookup_reads_what_the_orm_reads_in_one_query(
    connection, django_assert_num_queries
):
    expected = Connection.objects.select_related("organization__subscription").get(
        pk=connection.pk
    )

    with django_assert_num_queries(1):
        found = protocol._connection(connection.public_id)
        organization = found.organization
        subscription = organization.subscription

    assert _fields(found) == _fields(expected)
    assert found.sp_private_key == expected.sp_private_key != ""
    assert found.attribute_mapping == expected.attribute_mapping
    assert _fields(organization) == _fields(expected.organization)
    assert _fields(subscription) == _fields(expected.organization.subscription)
    assert found._state.adding is False


def test_connection_lookup_without_subscription_raises_without_a_query(
    db, settings, django_assert_num_queries
):
    settings.PUBLIC_BASE_URL = "https://progression.example"
    connection = connection_create(
        organization=OrganizationFactory(name="Initech", slug="initech"),
        provider="okta-saml",
        actor="operator",
    )

    with django_assert_num_queries(1):
        found = protocol._connection(connection.public_id)
        with pytest.raises(Subscription.DoesNotExist):
            found.organization.subscription  # noqa: B018 - the access is the test

    assert found.organization.slug == "initech"


def test_connection_lookup_unknown_or_oidc_connection_is_not_found(
    connection, entitled
):
    oidc = connection_create(
        organization=entitled, provider="generic-oidc", actor="operator"
    )

    with pytest.raises(Http404):
        protocol._connection("no-such-connection")
    with pytest.raises(Http404):
        protocol._connection(oidc.public_id)


def _identity(connection, subject, email="ada@acme.example"):
    return VerifiedIdentity(connection=connection, subject=subject, email=email)


def test_linked_user_lookup_finds_the_linked_user_in_one_query(
    connection, organization, django_assert_num_queries
):
    ada = UserFactory(organization=organization, email="ada@acme.example")
    Identity.objects.create(connection=connection, user=ada, subject="ada-at-idp")

    with django_assert_num_queries(1):
        user, linked = signin._find_user(_identity(connection, "ada-at-idp"))

    assert linked is True
    assert _fields(user) == _fields(type(ada).objects.get(pk=ada.pk))


def test_linked_user_lookup_ignores_another_connections_link(
    connection, organization, other_organization
):
    ada = UserFactory(organization=organization, email="ada@acme.example")
    other = connection_create(
        organization=other_organization, provider="okta-saml", actor="operator"
    )
    stranger = UserFactory(organization=other_organization, email="ada@globex.example")
    Identity.objects.create(connection=other, user=stranger, subject="ada-at-idp")

    user, linked = signin._find_user(_identity(connection, "ada-at-idp"))

    assert (user, linked) == (ada, False)


def test_sign_in_records_last_login_with_one_update(
    client, organization, django_assert_num_queries
):
    ada = UserFactory(organization=organization, email="ada@acme.example")
    before = timezone.now()

    with django_assert_num_queries(1) as captured:
        signin.last_login_record(sender=type(ada), user=ada)
    client.force_login(ada)

    assert captured.captured_queries[0]["sql"].startswith("UPDATE")
    stored = type(ada).objects.get(pk=ada.pk).last_login
    assert before <= stored <= timezone.now()
    assert ada.last_login == stored


def test_attempt_record_writes_the_row_the_orm_reads_back(connection, organization):
    ada = UserFactory(organization=organization, email="ada@acme.example")
    before = timezone.now()

    attempt = attempt_record(
        connection=connection,
        outcome=LoginAttempt.Outcome.SIGNED_IN,
        subject="ada-at-idp",
        email="ada@acme.example",
        issuer="https://idp.example/",
        attributes={"firstName": ["Ada"]},
        mapped={"first_name": "Ada"},
        user=ada,
    )

    stored = LoginAttempt.objects.get(pk=attempt.pk)
    assert attempt._state.adding is False
    assert _fields(stored) == _fields(attempt)
    assert before <= stored.created_at <= timezone.now()
    assert stored.attributes == {"firstName": ["(redacted)"]}
    assert stored.mapped == {"first_name": "Ada"}
    assert (stored.user, stored.connection, stored.test) == (ada, connection, False)


def test_connection_urls_follow_the_base_url_and_script_prefix(connection, settings):
    path = f"/sso/saml/{connection.public_id}/acs/"
    assert connection.acs_url == f"https://progression.example{path}"

    settings.PUBLIC_BASE_URL = "https://other.example"
    set_script_prefix("/progression/")
    try:
        fresh = Connection.objects.get(pk=connection.pk)
        assert fresh.acs_url == f"https://other.example/progression{path}"
    finally:
        set_script_prefix("/")
    assert Connection.objects.get(pk=connection.pk).acs_url.endswith(f".example{path}")
