import pytest
from django.core.cache import cache

from sso.models import Connection
from sso.services.connections import (
    connection_activate,
    connection_create,
    connection_settings_set,
)
from sso.services.idp import connection_metadata_fetch
from tests.factories import OrganizationDomainFactory, UserFactory
from tests.peers.simplesamlphp.idp import SimpleSamlIdp
from tests.sso.oidc_peer import entra, entra_peer, oidc_peer, peer  # noqa: F401

IDP_PASSWORD = "idp-password"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory):
    """SimpleSAMLphp, started once for the session, with a few people."""
    state = tmp_path_factory.mktemp("simplesamlphp")
    log = (state / "php.log").open("wb")
    idp = SimpleSamlIdp(state).start(log=log)
    people = [
        ("ada", "ada@acme.example", "Ada", "Lovelace"),
        ("admin", "admin@acme.example", "Avery", "Admin"),
        ("newcomer", "newcomer@acme.example", "New", "Comer"),
        ("stranger", "stranger@globex.example", "Sam", "Stranger"),
        ("mallory", "admin@acme.example.evil.test", "Mal", "Lory"),
    ]
    for username, email, first, last in people:
        idp.add_user(
            username,
            IDP_PASSWORD,
            uid=username,
            email=email,
            firstName=first,
            lastName=last,
            groups=["staff", "engineering"],
        )
    yield idp
    idp.stop()
    log.close()


@pytest.fixture
def public_base(settings, live_server):
    """Our side served by live_server, with PUBLIC_BASE_URL pointing at it."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    return live_server.url


@pytest.fixture
def acme(entitled):
    """The entitled organisation, owning acme.example."""
    OrganizationDomainFactory(organization=entitled, domain="acme.example")
    return entitled


@pytest.fixture
def ada(acme):
    """A person of `acme`; modules that need another Ada define their own."""
    return UserFactory(organization=acme, email="ada@acme.example", first_name="Ada")


@pytest.fixture
def acme_domain(organization):
    return OrganizationDomainFactory(organization=organization, domain="acme.example")


def connect(idp, organization, *, register=True, activate=True, **sp_options):
    """A generic SAML connection to the test IdP, from its metadata URL."""
    connection = connection_create(
        organization=organization, provider="generic-saml", actor="operator"
    )
    connection_metadata_fetch(
        connection=connection, actor="operator", metadata_url=idp.metadata_url
    )
    connection_settings_set(
        connection=connection,
        actor="operator",
        mapping={
            "subject": "",
            "email": "email",
            "first_name": "firstName",
            "last_name": "lastName",
            "groups": "groups",
        },
    )
    if register:
        idp.register_sp(connection.sp_entity_id, connection.acs_url, **sp_options)
    if activate:
        connection_activate(connection=connection, actor="operator", skip_test=True)
    return Connection.objects.get(pk=connection.pk)


@pytest.fixture
def idp_connection(transactional_db, public_base, saml_idp, entitled, acme_domain):
    return connect(saml_idp, entitled)
