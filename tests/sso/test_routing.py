"""Domain routing: a SAML and an OIDC connection side by side, the email
domain choosing between them, and the admin's default for unrouted domains."""

import pytest
from django.urls import reverse

from progression.errors import CrossOrganizationError
from sso import routing
from sso.models import DomainRoute, Policy
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_deactivate,
)
from sso.services.idp import connection_metadata_apply
from tests.factories import OrganizationDomainFactory
from tests.sso.builder import signing_key
from tests.sso.oidc_peer import oidc_connect
from tests.sso.test_portal import idp_metadata


def _saml(organization, *, activate=True):
    connection = connection_create(
        organization=organization, provider="okta-saml", actor="operator"
    )
    connection_metadata_apply(
        connection=connection, actor="operator", xml=idp_metadata(signing_key()[0])
    )
    if activate:
        connection_activate(connection=connection, actor="operator", skip_test=True)
    return connection


@pytest.fixture
def domains(entitled):
    return {
        name: OrganizationDomainFactory(organization=entitled, domain=name)
        for name in ("acme.example", "acme.io", "acme.dev")
    }


@pytest.fixture
def saml(entitled, domains):
    return _saml(entitled)


@pytest.fixture
def oidc(entitled, domains, peer):
    return oidc_connect(entitled, peer.issuer)


def _goes_to(client, email) -> str:
    return client.post(reverse("signin"), {"email": email})["Location"]


def test_each_domain_goes_to_its_routed_connection(
    client, entitled, domains, saml, oidc
):
    routing.routing_set(
        organization=entitled,
        actor="operator",
        routes={domains["acme.example"].pk: saml.pk, domains["acme.io"].pk: oidc.pk},
        default_connection_id=None,
    )

    to_saml = _goes_to(client, "ada@acme.example")
    to_oidc = _goes_to(client, "ada@ACME.io")

    assert to_saml == reverse("sso:saml-login", args=[saml.public_id])
    assert to_oidc == reverse("sso:oidc-login", args=[oidc.public_id])


def test_unrouted_domain_goes_to_the_default_connection(
    client, entitled, domains, saml, oidc
):
    routing.routing_set(
        organization=entitled,
        actor="operator",
        routes={domains["acme.example"].pk: saml.pk},
        default_connection_id=oidc.pk,
    )

    assert _goes_to(client, "ada@acme.dev") == reverse(
        "sso:oidc-login", args=[oidc.public_id]
    )


def test_without_default_the_oldest_active_connection_is_used(
    client, domains, saml, oidc
):
    assert _goes_to(client, "ada@acme.dev") == reverse(
        "sso:saml-login", args=[saml.public_id]
    )


def test_route_to_an_inactive_connection_falls_back_to_the_default(
    client, entitled, domains, saml, oidc
):
    routing.routing_set(
        organization=entitled,
        actor="operator",
        routes={domains["acme.io"].pk: oidc.pk},
        default_connection_id=saml.pk,
    )
    connection_deactivate(connection=oidc, actor="operator")

    assert _goes_to(client, "ada@acme.io") == reverse(
        "sso:saml-login", args=[saml.public_id]
    )


def test_routing_with_another_organisations_ids_changes_nothing(
    entitled, other_organization, domains, saml
):
    theirs = _saml(other_organization, activate=False)
    their_domain = OrganizationDomainFactory(
        organization=other_organization, domain="globex.example"
    )

    with pytest.raises(CrossOrganizationError):
        routing.routing_set(
            organization=entitled,
            actor="operator",
            routes={domains["acme.io"].pk: theirs.pk},
            default_connection_id=None,
        )
    with pytest.raises(CrossOrganizationError):
        routing.routing_set(
            organization=entitled,
            actor="operator",
            routes={their_domain.pk: saml.pk},
            default_connection_id=None,
        )
    with pytest.raises(CrossOrganizationError):
        routing.routing_set(
            organization=entitled,
            actor="operator",
            routes={},
            default_connection_id=theirs.pk,
        )

    assert DomainRoute.objects.count() == 0
    assert not Policy.objects.filter(default_connection__isnull=False).exists()


def test_portal_saves_routes_and_default(admin_client, entitled, domains, saml, oidc):
    page = admin_client.post(
        reverse("sso:routing"),
        {
            f"route-{domains['acme.io'].pk}": str(oidc.pk),
            f"route-{domains['acme.example'].pk}": "",
            "default_connection": str(saml.pk),
        },
    )

    assert page.status_code == 302
    assert DomainRoute.objects.get(domain=domains["acme.io"]).connection == oidc
    assert not DomainRoute.objects.filter(domain=domains["acme.example"]).exists()
    assert Policy.objects.get(organization=entitled).default_connection == saml
    index = admin_client.get(reverse("sso:index")).content.decode()
    assert 'id="route-acme.io"' in index
    assert f'<option value="{oidc.pk}" selected>' in index


def test_portal_clearing_a_route_removes_it(admin_client, entitled, domains, oidc):
    routing.routing_set(
        organization=entitled,
        actor="operator",
        routes={domains["acme.io"].pk: oidc.pk},
        default_connection_id=oidc.pk,
    )

    admin_client.post(
        reverse("sso:routing"),
        {f"route-{domains['acme.io'].pk}": "", "default_connection": ""},
    )

    assert DomainRoute.objects.count() == 0
    assert Policy.objects.get(organization=entitled).default_connection is None


@pytest.mark.parametrize("target", ["domain", "connection", "default"])
def test_portal_routing_with_another_organisations_ids_is_not_found(
    admin_client, entitled, other_organization, domains, saml, target
):
    theirs = _saml(other_organization, activate=False)
    their_domain = OrganizationDomainFactory(
        organization=other_organization, domain="globex.example"
    )
    data = {
        "domain": {f"route-{their_domain.pk}": str(saml.pk)},
        "connection": {f"route-{domains['acme.io'].pk}": str(theirs.pk)},
        "default": {"default_connection": str(theirs.pk)},
    }[target]

    page = admin_client.post(reverse("sso:routing"), data)

    assert page.status_code == 404
    assert DomainRoute.objects.count() == 0


def test_portal_routing_is_for_admins_only(member_client, domains, saml):
    page = member_client.post(
        reverse("sso:routing"), {f"route-{domains['acme.io'].pk}": str(saml.pk)}
    )

    assert page.status_code == 403
    assert DomainRoute.objects.count() == 0
