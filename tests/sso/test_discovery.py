import pytest
from django.urls import reverse

from billing.models import Subscription
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_deactivate,
)
from sso.services.idp import connection_metadata_apply
from tests.factories import OrganizationDomainFactory
from tests.sso.builder import signing_key
from tests.sso.test_portal import idp_metadata


@pytest.fixture
def active(entitled):
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    connection = connection_create(
        organization=entitled, provider="okta-saml", actor="operator"
    )
    connection_metadata_apply(
        connection=connection, actor="operator", xml=idp_metadata(signing_key()[0])
    )
    connection_activate(connection=connection, actor="operator", skip_test=True)
    return connection


def test_signin_email_on_domain_with_active_connection_goes_to_sso(client, active):
    page = client.post(
        reverse("signin"), {"email": "ada@ACME.example", "next": "/teams/"}
    )

    assert page.status_code == 302
    assert page["Location"] == (
        reverse("sso:saml-login", args=[active.public_id]) + "?next=%2Fteams%2F"
    )


def test_signin_email_on_other_domain_goes_to_password(client, active):
    page = client.post(reverse("signin"), {"email": "ada@globex.example"})

    assert page["Location"].startswith(reverse("signin-password"))


def test_signin_inactive_connection_goes_to_password(client, active):
    connection_deactivate(connection=active, actor="operator")

    page = client.post(reverse("signin"), {"email": "ada@acme.example"})

    assert page["Location"].startswith(reverse("signin-password"))


def test_signin_not_entitled_goes_to_password(client, active):
    Subscription.objects.filter(organization=active.organization).delete()

    page = client.post(reverse("signin"), {"email": "ada@acme.example"})

    assert page["Location"].startswith(reverse("signin-password"))
