"""Full sign-ins against SimpleSAMLphp, over plain HTTP with requests.

The attack cases start from real responses of that IdP and tamper with them.
"""

import base64
import copy
import re
from html import unescape

import pytest
import redis
import requests
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from billing.entitlements import entitlement
from billing.models import Subscription
from billing.services.subscriptions import subscription_set
from progression.models import AuditEvent, User
from progression.services import people
from sso import saml
from sso.flows import _assertion_key
from sso.models import Connection, Identity, LoginAttempt
from sso.services.certificates import certificate_add
from sso.services.connections import (
    connection_deactivate,
    connection_keypair_generate,
    connection_settings_set,
)
from sso.signin import ARCHIVED, NO_ACCOUNT
from sso.views.protocol import BODY_TOO_LARGE, REFUSED_PREFIX
from tests.factories import OrganizationDomainFactory, UserFactory
from tests.peers.simplesamlphp.idp import idp_sign_in
from tests.sso.conftest import IDP_PASSWORD, connect

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def _sp_initiated(browser, connection, username="ada", next_url=""):
    """Start at our login URL, sign in at the IdP, return its unposted form."""
    url = connection.login_url + (f"?next={next_url}" if next_url else "")
    start = browser.get(url, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    return idp_sign_in(browser, start.headers["Location"], username, IDP_PASSWORD)


def _idp_initiated(browser, idp, entity_id, username="ada", relay_state=""):
    return idp_sign_in(
        browser, idp.idp_initiated_url(entity_id, relay_state), username, IDP_PASSWORD
    )


def _post(browser, action, fields):
    return browser.post(action, data=fields, allow_redirects=False, timeout=10)


def _home_status(browser, base):
    return browser.get(f"{base}/", allow_redirects=False, timeout=10).status_code


def _xml(fields) -> etree._Element:
    return etree.fromstring(base64.b64decode(fields["SAMLResponse"]))


def _with_xml(fields, root) -> dict:
    return {**fields, "SAMLResponse": base64.b64encode(etree.tostring(root)).decode()}


def _refusal(page) -> str:
    match = re.search(r'id="refusal">([^<]*)<', page.text)
    return unescape(match.group(1)) if match else ""


def _last_attempt(connection) -> LoginAttempt:
    return LoginAttempt.objects.filter(connection=connection).first()


@pytest.fixture
def ada(organization):
    return UserFactory(organization=organization, email="ada@acme.example")


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


@pytest.fixture
def assertion_signed_only(
    transactional_db, public_base, saml_idp, entitled, acme_domain
):
    return connect(saml_idp, entitled, sign_response=False, sign_assertion=True)


def test_sp_initiated_sign_in_from_email_page_signs_in(
    idp_connection, public_base, browser, ada
):
    page = browser.get(f"{public_base}/signin/", timeout=10)

    start = browser.post(
        f"{public_base}/signin/",
        data={
            "email": "ada@acme.example",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=10,
    )
    action, fields = idp_sign_in(
        browser, public_base + start.headers["Location"], "ada", IDP_PASSWORD
    )
    landed = _post(browser, action, fields)

    assert action == idp_connection.acs_url
    assert landed.status_code == 302
    assert landed.headers["Location"] == "/"
    assert _home_status(browser, public_base) == 200
    attempt = _last_attempt(idp_connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN
    assert attempt.user == ada
    assert attempt.attributes["email"] == ["(redacted)"]


def test_sp_initiated_sign_in_keeps_same_site_next_path(
    idp_connection, public_base, browser, ada
):
    action, fields = _sp_initiated(browser, idp_connection, next_url="/teams/")

    landed = _post(browser, action, fields)

    assert landed.headers["Location"] == "/teams/"


def test_sp_initiated_sign_in_ignores_offsite_next(
    idp_connection, public_base, browser, ada
):
    action, fields = _sp_initiated(
        browser, idp_connection, next_url="https://evil.example/phish"
    )

    landed = _post(browser, action, fields)

    assert landed.headers["Location"] == "/"


def test_sign_in_links_subject_and_finds_person_by_it_later(
    idp_connection, public_base, saml_idp, browser, ada
):
    _post(browser, *_sp_initiated(browser, idp_connection))
    people.user_update(user=ada, actor="operator", email="ada.l@acme.example")

    with requests.Session() as again:
        landed = _post(again, *_sp_initiated(again, idp_connection))

    assert landed.headers["Location"] == "/"
    assert Identity.objects.get(connection=idp_connection).user == ada
    assert _last_attempt(idp_connection).user == ada


def test_idp_initiated_allowed_lands_on_home(
    idp_connection, public_base, saml_idp, browser, ada
):
    connection_settings_set(
        connection=idp_connection, actor="operator", allow_idp_initiated=True
    )

    action, fields = _idp_initiated(
        browser,
        saml_idp,
        idp_connection.sp_entity_id,
        relay_state="https://evil.example",
    )
    landed = _post(browser, action, fields)

    assert landed.headers["Location"] == "/"
    assert _home_status(browser, public_base) == 200
    assert _last_attempt(idp_connection).idp_initiated is True


def test_idp_initiated_not_allowed_is_refused(
    idp_connection, public_base, saml_idp, browser, ada
):
    action, fields = _idp_initiated(browser, saml_idp, idp_connection.sp_entity_id)

    landed = _post(browser, action, fields)

    assert landed.status_code == 403
    assert _refusal(landed) == REFUSED_PREFIX % saml.REASONS["unsolicited"]
    assert _home_status(browser, public_base) == 302
    assert _last_attempt(idp_connection).reason == "unsolicited"


@pytest.mark.parametrize(
    ("sign_response", "sign_assertion"), [(True, False), (False, True)]
)
def test_sign_in_with_one_signature_placement_signs_in(
    transactional_db,
    public_base,
    saml_idp,
    entitled,
    acme_domain,
    browser,
    ada,
    sign_response,
    sign_assertion,
):
    connection = connect(
        saml_idp, entitled, sign_response=sign_response, sign_assertion=sign_assertion
    )

    action, fields = _sp_initiated(browser, connection)
    root = _xml(fields)
    landed = _post(browser, action, fields)

    assert bool(root.findall("ds:Signature", NS)) is sign_response
    assert bool(root.findall("saml:Assertion/ds:Signature", NS)) is sign_assertion
    assert landed.headers["Location"] == "/"


def test_encrypted_assertion_is_decrypted_and_signs_in(
    transactional_db, public_base, saml_idp, entitled, acme_domain, browser, ada
):
    connection = connect(saml_idp, entitled, register=False)
    connection_keypair_generate(connection=connection, actor="operator")
    connection.refresh_from_db()
    saml_idp.register_sp(
        connection.sp_entity_id,
        connection.acs_url,
        encrypt_certificate=connection.sp_certificate,
    )

    action, fields = _sp_initiated(browser, connection)
    root = _xml(fields)
    landed = _post(browser, action, fields)

    assert root.find("saml:EncryptedAssertion", NS) is not None
    assert root.find("saml:Assertion", NS) is None
    assert landed.headers["Location"] == "/"


def test_certificate_rotation_accepts_old_and_new_during_overlap(
    transactional_db, public_base, saml_idp, entitled, acme_domain, ada
):
    connection = connect(saml_idp, entitled, register=False)
    certificate_add(
        connection=connection, actor="operator", pem=saml_idp.keys["next"][0]
    )
    saml_idp.register_sp(connection.sp_entity_id, connection.acs_url)

    with requests.Session() as first:
        old = _post(first, *_sp_initiated(first, connection))
    saml_idp.register_sp(
        connection.sp_entity_id, connection.acs_url, signing_key="next"
    )
    with requests.Session() as second:
        new = _post(second, *_sp_initiated(second, connection))

    assert old.headers["Location"] == "/"
    assert new.headers["Location"] == "/"
    assert connection.certificates.count() == 2


def test_signature_by_unknown_certificate_is_refused(
    transactional_db, public_base, saml_idp, entitled, acme_domain, browser, ada
):
    connection = connect(saml_idp, entitled, signing_key="next")

    landed = _post(browser, *_sp_initiated(browser, connection))

    assert landed.status_code == 403
    assert _last_attempt(connection).reason == "signature_invalid"


def test_sha1_signature_is_refused_unless_allowed(
    transactional_db, public_base, saml_idp, entitled, acme_domain, ada
):
    connection = connect(saml_idp, entitled, sha1=True)

    with requests.Session() as first:
        refused = _post(first, *_sp_initiated(first, connection))
    connection_settings_set(connection=connection, actor="operator", allow_sha1=True)
    with requests.Session() as second:
        accepted = _post(second, *_sp_initiated(second, connection))

    assert _refusal(refused) == REFUSED_PREFIX % saml.REASONS["sha1_refused"]
    assert accepted.headers["Location"] == "/"


def test_replayed_response_is_refused(idp_connection, public_base, browser, ada):
    action, fields = _sp_initiated(browser, idp_connection)
    first = _post(browser, action, fields)

    with requests.Session() as attacker:
        second = _post(attacker, action, fields)

    assert first.headers["Location"] == "/"
    assert second.status_code == 403
    # The request was consumed by the first answer: it is no longer known.
    assert _refusal(second) == REFUSED_PREFIX % saml.REASONS["unknown_request"]
    assert _home_status(attacker, settings.PUBLIC_BASE_URL) == 302


def test_replayed_idp_initiated_assertion_is_refused(
    idp_connection, public_base, saml_idp, browser, ada
):
    connection_settings_set(
        connection=idp_connection, actor="operator", allow_idp_initiated=True
    )
    action, fields = _idp_initiated(browser, saml_idp, idp_connection.sp_entity_id)
    first = _post(browser, action, fields)

    with requests.Session() as attacker:
        second = _post(attacker, action, fields)

    assert first.headers["Location"] == "/"
    assert _refusal(second) == REFUSED_PREFIX % saml.REASONS["replayed"]


def test_used_assertion_id_is_in_the_shared_store(
    idp_connection, public_base, browser, ada
):
    action, fields = _sp_initiated(browser, idp_connection)
    assertion_id = _xml(fields).find("saml:Assertion", NS).get("ID")

    _post(browser, action, fields)
    # Another process sees the same Redis: read it with a client of our own.
    store = redis.Redis.from_url(settings.REDIS_URL)
    keys = [key.decode() for key in store.keys("*sso:saml:assertion:*")]

    assert any(
        key.endswith(_assertion_key(idp_connection, assertion_id)) for key in keys
    )
    ttl = store.ttl(
        next(
            k for k in keys if k.endswith(_assertion_key(idp_connection, assertion_id))
        )
    )
    assert 0 < ttl <= 15 * 60


def test_response_for_unknown_request_is_refused(
    idp_connection, public_base, browser, ada
):
    action, fields = _sp_initiated(browser, idp_connection)
    cache.clear()

    landed = _post(browser, action, fields)

    assert _refusal(landed) == REFUSED_PREFIX % saml.REASONS["unknown_request"]


def test_expired_assertion_is_refused(
    idp_connection, public_base, browser, ada, monkeypatch
):
    action, fields = _sp_initiated(browser, idp_connection)
    later = OneLogin_Saml2_Utils.now() + 60 * 60
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: later))

    landed = _post(browser, action, fields)

    assert landed.status_code == 403
    assert _last_attempt(idp_connection).reason == "expired"
    assert _home_status(browser, public_base) == 302


def test_wrong_audience_is_refused(idp_connection, public_base, saml_idp, browser, ada):
    connection_settings_set(
        connection=idp_connection, actor="operator", allow_idp_initiated=True
    )
    other_sp = "https://other-service.example/saml"
    saml_idp.register_sp(other_sp, idp_connection.acs_url)

    landed = _post(browser, *_idp_initiated(browser, saml_idp, other_sp))

    assert _refusal(landed) == REFUSED_PREFIX % saml.REASONS["wrong_audience"]


def test_unsigned_response_is_refused(idp_connection, public_base, browser, ada):
    action, fields = _sp_initiated(browser, idp_connection)
    root = _xml(fields)
    for signature in root.iter(f"{{{NS['ds']}}}Signature"):
        signature.getparent().remove(signature)

    landed = _post(browser, action, _with_xml(fields, root))

    assert _refusal(landed) == REFUSED_PREFIX % saml.REASONS["unsigned"]


def _evil_copy(assertion, email="admin@acme.example"):
    evil = copy.deepcopy(assertion)
    for signature in evil.findall("ds:Signature", NS):
        evil.remove(signature)
    evil.set("ID", "_evil" + assertion.get("ID"))
    evil.find("saml:Subject/saml:NameID", NS).text = email
    for value in evil.iterfind(
        "saml:AttributeStatement/saml:Attribute[@Name='email']/saml:AttributeValue", NS
    ):
        value.text = email
    return evil


def _wrap_before(root, assertion):
    root.insert(list(root).index(assertion), _evil_copy(assertion))


def _wrap_in_extensions(root, assertion):
    extensions = etree.Element(f"{{{NS['samlp']}}}Extensions")
    index = list(root).index(assertion)
    root.remove(assertion)
    extensions.append(assertion)
    root.insert(index, _evil_copy(assertion))
    root.insert(1, extensions)


def _wrap_inside_evil(root, assertion):
    evil = _evil_copy(assertion)
    index = list(root).index(assertion)
    root.remove(assertion)
    evil.append(assertion)
    root.insert(index, evil)


def _wrap_same_id(root, assertion):
    evil = _evil_copy(assertion)
    evil.set("ID", assertion.get("ID"))
    root.insert(list(root).index(assertion), evil)


@pytest.mark.parametrize(
    "wrap", [_wrap_before, _wrap_in_extensions, _wrap_inside_evil, _wrap_same_id]
)
def test_signature_wrapping_is_refused(
    assertion_signed_only, public_base, browser, ada, admin, wrap
):
    action, fields = _sp_initiated(browser, assertion_signed_only)
    root = _xml(fields)
    wrap(root, root.find("saml:Assertion", NS))

    landed = _post(browser, action, _with_xml(fields, root))

    assert landed.status_code == 403
    assert _last_attempt(assertion_signed_only).reason == "wrong_number_of_assertions"
    assert _home_status(browser, public_base) == 302


def test_assertion_changed_after_signing_is_refused(
    assertion_signed_only, public_base, browser, ada, admin
):
    action, fields = _sp_initiated(browser, assertion_signed_only)
    root = _xml(fields)
    assertion = root.find("saml:Assertion", NS)
    assertion.find("saml:Subject/saml:NameID", NS).text = "admin@acme.example"
    for value in assertion.iterfind(
        "saml:AttributeStatement/saml:Attribute[@Name='email']/saml:AttributeValue", NS
    ):
        value.text = "admin@acme.example"

    landed = _post(browser, action, _with_xml(fields, root))

    assert _refusal(landed) == REFUSED_PREFIX % saml.REASONS["signature_invalid"]
    assert _home_status(browser, public_base) == 302


def test_comment_in_name_id_does_not_truncate_the_email(
    assertion_signed_only, public_base, browser, admin
):
    action, fields = _sp_initiated(browser, assertion_signed_only, username="mallory")
    text = base64.b64decode(fields["SAMLResponse"]).decode()
    tampered = text.replace(
        "admin@acme.example.evil.test", "admin@acme.example<!---->.evil.test"
    )

    landed = _post(
        browser,
        action,
        {**fields, "SAMLResponse": base64.b64encode(tampered.encode()).decode()},
    )

    assert tampered != text
    assert _refusal(landed) == NO_ACCOUNT.format(
        email="admin@acme.example.evil.test", organization="Acme"
    )
    assert _home_status(browser, public_base) == 302


def test_response_with_dtd_is_refused(idp_connection, public_base, browser, ada):
    action, fields = _sp_initiated(browser, idp_connection)
    text = base64.b64decode(fields["SAMLResponse"]).decode()
    body = text.split("?>", 1)[-1] if text.startswith("<?xml") else text
    evil = '<!DOCTYPE r [<!ENTITY who "admin@acme.example">]>' + body

    landed = _post(
        browser, action, {**fields, "SAMLResponse": base64.b64encode(evil.encode())}
    )

    assert _refusal(landed) == REFUSED_PREFIX % saml.REASONS["xml_dtd"]


def test_oversized_body_is_refused_before_parsing(idp_connection, public_base):
    landed = requests.post(
        idp_connection.acs_url,
        data={"SAMLResponse": "A" * (saml.MAX_RESPONSE_BYTES + 10_000)},
        allow_redirects=False,
        timeout=10,
    )

    assert landed.status_code == 413
    assert _refusal(landed) == BODY_TOO_LARGE
    assert LoginAttempt.objects.count() == 0


def test_response_for_connection_a_posted_to_connection_b_is_refused(
    idp_connection, public_base, saml_idp, other_organization, browser, ada
):
    subscription_set(
        organization=other_organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    other = connect(saml_idp, other_organization)
    connection_settings_set(
        connection=other, actor="operator", allow_idp_initiated=True
    )
    _action, fields = _sp_initiated(browser, idp_connection)
    connection_settings_set(
        connection=idp_connection, actor="operator", allow_idp_initiated=True
    )
    _action, unsolicited = _idp_initiated(
        browser, saml_idp, idp_connection.sp_entity_id
    )

    solicited = _post(browser, other.acs_url, fields)
    unsolicited = _post(browser, other.acs_url, unsolicited)

    assert _refusal(solicited) == REFUSED_PREFIX % saml.REASONS["unknown_request"]
    assert unsolicited.status_code == 403
    assert _last_attempt(other).reason in {"wrong_audience", "wrong_destination"}
    assert _home_status(browser, public_base) == 302


def test_valid_assertion_for_user_of_other_organization_is_refused(
    idp_connection, public_base, other_organization, browser
):
    UserFactory(organization=other_organization, email="stranger@globex.example")

    landed = _post(browser, *_sp_initiated(browser, idp_connection, "stranger"))

    assert _refusal(landed) == NO_ACCOUNT.format(
        email="stranger@globex.example", organization="Acme"
    )
    assert _home_status(browser, public_base) == 302


def test_archived_person_is_refused(idp_connection, public_base, browser, ada, admin):
    people.user_archive(user=ada, reason="left", actor="operator")

    landed = _post(browser, *_sp_initiated(browser, idp_connection))

    assert _refusal(landed) == ARCHIVED.format(organization="Acme")
    assert _last_attempt(idp_connection).reason == "archived"


def test_no_account_without_jit_is_refused(idp_connection, public_base, browser):
    landed = _post(browser, *_sp_initiated(browser, idp_connection, "newcomer"))

    assert _refusal(landed) == NO_ACCOUNT.format(
        email="newcomer@acme.example", organization="Acme"
    )
    assert not User.objects.filter(email="newcomer@acme.example").exists()


def test_jit_creates_the_person_on_first_sign_in(idp_connection, public_base, browser):
    connection_settings_set(
        connection=idp_connection, actor="operator", jit_provisioning=True
    )

    landed = _post(browser, *_sp_initiated(browser, idp_connection, "newcomer"))

    person = User.objects.get(email="newcomer@acme.example")
    assert landed.headers["Location"] == "/"
    assert (person.organization, person.first_name, person.last_name) == (
        idp_connection.organization,
        "New",
        "Comer",
    )
    assert AuditEvent.objects.filter(
        action="user.created", target_id=person.pk
    ).exists()


def test_jit_refuses_email_outside_the_organisations_domains(
    idp_connection, public_base, browser
):
    connection_settings_set(
        connection=idp_connection, actor="operator", jit_provisioning=True
    )

    _post(browser, *_sp_initiated(browser, idp_connection, "stranger"))

    assert not User.objects.filter(email="stranger@globex.example").exists()
    assert _last_attempt(idp_connection).reason == "email_outside_domains"


def test_inactive_connection_refuses_sign_in(idp_connection, public_base, browser, ada):
    action, fields = _sp_initiated(browser, idp_connection)
    connection_deactivate(connection=idp_connection, actor="operator")

    landed = _post(browser, action, fields)

    assert landed.status_code == 403
    assert _last_attempt(idp_connection).reason == "connection_inactive"


def test_not_entitled_organization_is_refused_and_nothing_written(
    transactional_db, public_base, saml_idp, other_organization, browser
):
    OrganizationDomainFactory(organization=other_organization, domain="globex.example")
    subscription_set(
        organization=other_organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    connection = connect(saml_idp, other_organization)
    UserFactory(organization=other_organization, email="stranger@globex.example")
    action, fields = _sp_initiated(browser, connection, "stranger")
    # The subscription ends between the redirect to the IdP and the answer.
    Subscription.objects.filter(organization=other_organization).delete()
    granted = entitlement(other_organization)
    sessions_before = _session_count()

    landed = _post(browser, action, fields)

    assert granted.available is False
    assert granted.message in _refusal(landed)
    assert LoginAttempt.objects.filter(connection=connection).count() == 0
    assert Identity.objects.count() == 0
    assert _session_count() == sessions_before


def _session_count():
    """Sessions in the store the project uses: Redis, or the database."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        return Session.objects.count()
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    return len(list(client.scan_iter(match=f"{prefix}:*:django.contrib.sessions*")))


def test_login_url_of_draft_connection_is_refused(
    transactional_db, public_base, saml_idp, entitled, acme_domain
):
    connection = connect(saml_idp, entitled, activate=False)

    page = requests.get(connection.login_url, allow_redirects=False, timeout=10)

    assert page.status_code == 403
    assert Connection.objects.get(pk=connection.pk).state == "draft"
