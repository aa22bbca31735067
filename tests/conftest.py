import pytest

from tests.browsers import chromium, page  # noqa: F401
from tests.factories import AdminFactory, OrganizationFactory, UserFactory
from tests.workers import celery_worker, celery_worker_process  # noqa: F401


@pytest.fixture
def organization(db):
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def admin(organization):
    return AdminFactory(organization=organization, email="admin@acme.example")


@pytest.fixture
def member(organization):
    return UserFactory(organization=organization, email="member@acme.example")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def entitled(organization):
    """The organisation on Scale Annual with 50 seats.

    SSO and Directory Sync are included.
    """
    from billing.services.subscriptions import subscription_set

    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    return organization
