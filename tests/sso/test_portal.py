import pytest
from django.urls import reverse
from django.utils.html import escape

from sso.forms import METADATA_EMPTY
from sso.models import Connection, IdpCertificate, LoginAttempt, Policy
from sso.providers import PROVIDERS
from sso.services.attempts import attempt_record
from sso.services.certificates import certificate_add, certificates_check_expiry
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_settings_set,
    connection_tested,
)
from sso.services.idp import CERTIFICATE_REQUIRED, connection_metadata_apply
from sso.services.policy import password_sign_in_allowed, policy_set
from tests.factories import AdminFactory
from tests.peers.simplesamlphp.idp import make_keypair
from tests.sso.builder import signing_key


def idp_metadata(cert: str, entity_id="https://idp.example/meta") -> str:
    body = "".join(line for line in cert.splitlines() if "-----" not in line)
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:IDPSSODescriptor
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{body}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


@pytest.fixture
def connection(organization):
    return connection_create(
        organization=organization, provider="okta-saml", actor="operator"
    )


@pytest.fixture
def configured(connection):
    connection_metadata_apply(
        connection=connection, actor="operator", xml=idp_metadata(signing_key()[0])
    )
    return connection


@pytest.fixture
def other_connection(other_organization):
    connection = connection_create(
        organization=other_organization, provider="okta-saml", actor="operator"
    )
    connection_metadata_apply(
        connection=connection, actor="operator", xml=idp_metadata(signing_key()[0])
    )
    return connection


def _pages(connection):
    certificate = connection.certificates.first()
    attempt = LoginAttempt.objects.create(
        connection=connection, outcome="tested", test=True
    )
    pk = connection.pk
    return [
        ("get", reverse("sso:connection", args=[pk])),
        ("post", reverse("sso:connection-idp", args=[pk])),
        ("post", reverse("sso:connection-refresh", args=[pk])),
        ("post", reverse("sso:connection-settings", args=[pk])),
        ("post", reverse("sso:certificate-add", args=[pk])),
        ("post", reverse("sso:certificate-remove", args=[pk, certificate.pk])),
        ("post", reverse("sso:connection-keypair", args=[pk])),
        ("post", reverse("sso:connection-test", args=[pk])),
        ("get", reverse("sso:connection-test-result", args=[pk, attempt.pk])),
        ("post", reverse("sso:connection-activate", args=[pk])),
        ("post", reverse("sso:connection-deactivate", args=[pk])),
        ("get", reverse("sso:connection-attempts", args=[pk])),
    ]


def test_every_connection_page_of_other_organization_answers_404(
    admin_client, other_connection
):
    before = Connection.objects.get(pk=other_connection.pk)

    statuses = [
        getattr(admin_client, method)(url).status_code
        for method, url in _pages(other_connection)
    ]

    after = Connection.objects.get(pk=other_connection.pk)
    assert statuses == [404] * len(statuses)
    assert (after.state, after.sp_certificate) == (before.state, before.sp_certificate)
    assert other_connection.certificates.count() == 1


def test_every_page_refuses_members(member_client, configured):
    pages = _pages(configured) + [
        ("get", reverse("sso:index")),
        ("post", reverse("sso:connection-new")),
        ("post", reverse("sso:policy")),
    ]

    statuses = [getattr(member_client, m)(url).status_code for m, url in pages]

    assert statuses == [403] * len(statuses)


def test_index_lists_only_own_connections_and_all_providers(
    admin_client, connection, other_connection
):
    other_connection.name = "Globex Okta"
    other_connection.save()

    page = admin_client.get(reverse("sso:index"))

    body = page.content.decode()
    assert page.status_code == 200
    assert reverse("sso:connection", args=[connection.pk]) in body
    assert reverse("sso:connection", args=[other_connection.pk]) not in body
    assert all(provider.name in body for provider in PROVIDERS.values())


def test_index_not_entitled_shows_upsell(admin_client):
    page = admin_client.get(reverse("sso:index"))

    assert 'class="alert upsell"' in page.content.decode()


def test_new_connection_starts_draft_with_provider_defaults(admin_client, organization):
    page = admin_client.post(reverse("sso:connection-new"), {"provider": "azure-saml"})

    connection = Connection.objects.get(organization=organization)
    assert page.status_code == 302
    assert connection.state == Connection.State.DRAFT
    assert connection.attribute_mapping == PROVIDERS["azure-saml"].mapping


def test_new_connection_unknown_provider_changes_nothing(admin_client, organization):
    admin_client.post(reverse("sso:connection-new"), {"provider": "nope"})

    assert Connection.objects.filter(organization=organization).count() == 0


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_connection_page_shows_guide_and_our_values(
    admin_client, organization, provider
):
    connection = connection_create(
        organization=organization, provider=provider, actor="operator"
    )

    page = admin_client.get(reverse("sso:connection", args=[connection.pk]))

    body = page.content.decode()
    info = PROVIDERS[provider]
    assert connection.acs_url in body
    assert connection.sp_entity_id in body
    assert escape(info.steps[0]) in body
    assert all(escape(trap) in body for trap in info.traps)


def test_shibboleth_connection_gets_sp_key_pair_for_encryption(organization):
    connection = connection_create(
        organization=organization, provider="shibboleth-saml", actor="operator"
    )

    assert "BEGIN CERTIFICATE" in connection.sp_certificate
    assert "PRIVATE KEY" in Connection.objects.get(pk=connection.pk).sp_private_key


def test_metadata_pasted_sets_idp_values(admin_client, connection):
    page = admin_client.post(
        reverse("sso:connection-idp", args=[connection.pk]),
        {"mode": "metadata", "xml": idp_metadata(signing_key()[0])},
    )

    connection.refresh_from_db()
    assert page.status_code == 302
    assert connection.idp_entity_id == "https://idp.example/meta"
    assert connection.sso_url == "https://idp.example/sso"
    assert connection.slo_url == "https://idp.example/slo"
    assert connection.certificates.get().source == IdpCertificate.Source.METADATA


def test_metadata_with_dtd_is_refused_and_changes_nothing(admin_client, connection):
    evil = (
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + idp_metadata(signing_key()[0]).split("?>", 1)[1]
    )

    page = admin_client.post(
        reverse("sso:connection-idp", args=[connection.pk]),
        {"mode": "metadata", "xml": evil},
    )

    connection.refresh_from_db()
    assert page.status_code == 400
    assert connection.idp_entity_id == ""


def test_metadata_empty_form_says_what_to_give(admin_client, connection):
    page = admin_client.post(
        reverse("sso:connection-idp", args=[connection.pk]), {"mode": "metadata"}
    )

    assert page.status_code == 400
    assert METADATA_EMPTY in page.content.decode()


def test_metadata_url_to_private_address_is_refused(admin_client, connection, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    page = admin_client.post(
        reverse("sso:connection-idp", args=[connection.pk]),
        {"mode": "metadata", "url": "https://169.254.169.254/metadata"},
    )

    connection.refresh_from_db()
    assert page.status_code == 400
    assert connection.metadata_url == ""


def test_manual_values_set_idp(admin_client, connection):
    page = admin_client.post(
        reverse("sso:connection-idp", args=[connection.pk]),
        {
            "mode": "manual",
            "entity_id": "http://www.okta.com/exk1",
            "sso_url": "https://acme.okta.com/app/sso/saml",
            "certificate": signing_key()[0],
        },
    )

    connection.refresh_from_db()
    assert page.status_code == 302
    assert connection.idp_entity_id == "http://www.okta.com/exk1"
    assert connection.certificates.get().source == IdpCertificate.Source.MANUAL


def test_manual_values_without_certificate_are_refused(admin_client, connection):
    page = admin_client.post(
        reverse("sso:connection-idp", args=[connection.pk]),
        {"mode": "manual", "entity_id": "x", "sso_url": "https://idp.example/sso"},
    )

    assert page.status_code == 400
    assert CERTIFICATE_REQUIRED in page.content.decode()


def test_settings_save_mapping_and_flags(admin_client, connection):
    page = admin_client.post(
        reverse("sso:connection-settings", args=[connection.pk]),
        {
            "email": "mail",
            "first_name": "given",
            "last_name": "sn",
            "allow_idp_initiated": "on",
            "jit_provisioning": "on",
        },
    )

    connection.refresh_from_db()
    assert page.status_code == 302
    assert connection.attribute_mapping["email"] == "mail"
    assert connection.allow_idp_initiated is True
    assert connection.jit_provisioning is True
    assert connection.allow_sha1 is False


def test_sha1_allowed_shows_warning(admin_client, connection):
    connection_settings_set(connection=connection, actor="operator", allow_sha1=True)

    page = admin_client.get(reverse("sso:connection", args=[connection.pk]))

    assert "accepts SHA-1 signatures" in page.content.decode()


def test_certificate_add_ahead_of_rotation(admin_client, configured):
    new_cert = make_keypair("next")[0]

    page = admin_client.post(
        reverse("sso:certificate-add", args=[configured.pk]), {"certificate": new_cert}
    )

    assert page.status_code == 302
    assert configured.certificates.count() == 2


def test_certificate_add_expired_is_refused(admin_client, configured):
    old = make_keypair("old", days=-1)[0]

    page = admin_client.post(
        reverse("sso:certificate-add", args=[configured.pk]), {"certificate": old}
    )

    assert page.status_code == 400
    assert configured.certificates.count() == 1


def test_certificate_add_garbage_is_refused(admin_client, configured):
    page = admin_client.post(
        reverse("sso:certificate-add", args=[configured.pk]),
        {"certificate": "not a cert"},
    )

    assert page.status_code == 400
    assert configured.certificates.count() == 1


def test_certificate_remove_last_of_active_connection_is_refused(
    admin_client, configured, entitled
):
    connection_activate(connection=configured, actor="operator", skip_test=True)
    certificate = configured.certificates.get()

    admin_client.post(
        reverse("sso:certificate-remove", args=[configured.pk, certificate.pk])
    )

    assert configured.certificates.count() == 1


def test_certificate_expiring_within_90_days_is_warned(admin_client, connection):
    soon = make_keypair("soon", days=30)[0]
    certificate_add(connection=connection, actor="operator", pem=soon)

    marked = certificates_check_expiry()
    again = certificates_check_expiry()
    page = admin_client.get(reverse("sso:connection", args=[connection.pk]))

    assert (marked, again) == (1, 0)
    assert "expires in 29 days" in page.content.decode() or "expires in 30 days" in (
        page.content.decode()
    )


def test_keypair_generate_publishes_sp_certificate(admin_client, client, connection):
    admin_client.post(reverse("sso:connection-keypair", args=[connection.pk]))

    connection.refresh_from_db()
    metadata = client.get(reverse("sso:saml-metadata", args=[connection.public_id]))
    body = "".join(connection.sp_certificate.splitlines()[1:-1])
    assert body[:60] in metadata.content.decode()


def test_activate_untested_is_refused(admin_client, configured, entitled):
    admin_client.post(reverse("sso:connection-activate", args=[configured.pk]))

    configured.refresh_from_db()
    assert configured.state == Connection.State.DRAFT


def test_activate_not_entitled_is_refused(admin_client, configured):
    connection_tested(connection=configured)

    page = admin_client.post(
        reverse("sso:connection-activate", args=[configured.pk]), follow=True
    )

    configured.refresh_from_db()
    assert configured.state == Connection.State.DRAFT
    assert "not available on this organisation" in page.content.decode()


def test_activate_tested_and_entitled_then_deactivate(
    admin_client, configured, entitled
):
    connection_tested(connection=configured)

    admin_client.post(reverse("sso:connection-activate", args=[configured.pk]))
    configured.refresh_from_db()
    state_after_activate = configured.state
    admin_client.post(reverse("sso:connection-deactivate", args=[configured.pk]))
    configured.refresh_from_db()

    assert state_after_activate == Connection.State.ACTIVE
    assert configured.state == Connection.State.INACTIVE


def test_test_sign_in_redirects_to_idp(admin_client, configured):
    page = admin_client.post(reverse("sso:connection-test", args=[configured.pk]))

    assert page.status_code == 302
    assert page["Location"].startswith("https://idp.example/sso?SAMLRequest=")


def test_test_sign_in_unconfigured_says_so(admin_client, connection):
    page = admin_client.post(
        reverse("sso:connection-test", args=[connection.pk]), follow=True
    )

    assert "no IdP certificate or sign-in URL" in page.content.decode()


def test_attempts_page_lists_attempts(admin_client, configured):
    attempt_record(connection=configured, outcome="refused", reason="wrong_audience")

    page = admin_client.get(reverse("sso:connection-attempts", args=[configured.pk]))

    assert "wrong_audience" in page.content.decode()


def test_policy_require_sso_saved_and_audited(admin_client, organization):
    admin_client.post(reverse("sso:policy"), {"require_sso": "on"})

    assert Policy.objects.get(organization=organization).require_sso is True


def test_password_sign_in_allowed_admins_keep_it(organization, configured, entitled):
    policy_set(organization=organization, require_sso=True, actor="operator")
    connection_activate(connection=configured, actor="operator", skip_test=True)
    admin = AdminFactory(organization=organization)
    member = AdminFactory(organization=organization, role="member")

    assert password_sign_in_allowed(admin) is True
    assert password_sign_in_allowed(member) is False
