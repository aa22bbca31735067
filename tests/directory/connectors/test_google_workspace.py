import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from directory.connectors import google_workspace
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from directory.connectors.google_workspace import (
    GoogleWorkspaceConnector,
    Group,
)
from tests.peers.hris.google import RATE_LIMITED, user

SERVICE_ACCOUNT = "sync@acme-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account(google_fake, signing_key):
    google_fake.service_account(SERVICE_ACCOUNT, signing_key.public_key())
    pem = signing_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "service_account": {
            "type": "service_account",
            "client_email": SERVICE_ACCOUNT,
            "private_key_id": "key-1",
            "private_key": pem,
            "token_uri": "https://oauth2.googleapis.com/token",
        },
        "admin_email": "admin@acme.example",
    }


@pytest.fixture
def customer(google_fake):
    """Engineering (with a nested Platform group) and Sales; Ops not chosen."""
    google_fake.add_users(
        user(
            "101",
            "Ada",
            "Lovelace",
            organizations=[
                {"department": "Old", "title": "Intern", "primary": False},
                {"department": "Engineering", "title": "Engineer", "primary": True},
            ],
            relations=[{"type": "manager", "value": "grace@acme.example"}],
        ),
        user("102", "Grace", "Hopper"),
        user("103", "Linus", "Torvalds"),
        user("104", "Barbara", "Liskov", suspended=True),
        user("105", "Edsger", "Dijkstra", archived=True),
        user("106", "Outside", "Scope"),
    )
    google_fake.add_group(
        "g-platform",
        "platform@acme.example",
        "Platform",
        [
            ("USER", "103"),
        ],
    )
    google_fake.add_group(
        "g-eng",
        "eng@acme.example",
        "Engineering",
        [
            ("USER", "101"),
            ("USER", "104"),
            ("GROUP", "g-platform"),
        ],
    )
    google_fake.add_group(
        "g-sales",
        "sales@acme.example",
        "Sales",
        [
            ("USER", "102"),
            ("USER", "105"),
            ("USER", "101"),
            ("CUSTOMER", "C0abc"),
        ],
    )
    google_fake.add_group("g-ops", "ops@acme.example", "Ops", [("USER", "106")])
    return google_fake


def _connector(fake, credentials=None, groups=("g-eng", "sales@acme.example")):
    return GoogleWorkspaceConnector(
        credentials or fake.oauth_client(),
        base_url=fake.url,
        options={"groups": list(groups)},
    )


def test_fetch_first_sync_yields_members_of_chosen_groups(customer):
    records = list(_connector(customer).fetch())

    assert [r.user_name for r in records] == ["101", "102", "103", "104", "105"]
    ada = records[0]
    assert (ada.email, ada.first_name, ada.last_name) == (
        "ada@acme.example",
        "Ada",
        "Lovelace",
    )
    assert (ada.department, ada.title, ada.manager_ref) == (
        "Engineering",
        "Engineer",
        "grace@acme.example",
    )
    assert ada.attributes["groups"] == ["g-eng", "sales@acme.example"]


def test_fetch_keeps_no_personal_data(customer):
    customer.get_user("101").update(
        phones=[{"value": "+44 20 7946 0000"}], recoveryEmail="ada@home.example"
    )

    ada = next(iter(_connector(customer).fetch()))

    assert "phones" not in ada.attributes
    assert "recoveryEmail" not in ada.attributes
    assert ada.attributes["primaryEmail"] == "ada@acme.example"


def test_fetch_suspended_and_archived_users_are_inactive(customer):
    records = {r.user_name: r for r in _connector(customer).fetch()}

    assert records["101"].active is True
    assert records["104"].active is False
    assert records["105"].active is False


def test_fetch_asks_for_flattened_membership(customer):
    list(_connector(customer).fetch())

    members = customer.requests_to("/members")
    assert [r.path for r in members] == [
        "/admin/directory/v1/groups/g-eng/members",
        "/admin/directory/v1/groups/sales@acme.example/members",
    ]
    assert members[0].query["includeDerivedMembership"] == "true"
    (users,) = customer.requests_to("/users")
    assert users.query == {
        "customer": "my_customer",
        "maxResults": "500",
        "projection": "full",
    }


def test_fetch_many_users_reads_every_page(google_fake):
    google_fake.add_users(*[user(f"{i}", f"P{i}", "Person") for i in range(1200)])
    google_fake.add_group(
        "g-all", "all@acme.example", "All", [("USER", f"{i}") for i in range(1200)]
    )

    records = list(_connector(google_fake, groups=["g-all"]).fetch())

    assert len(records) == 1200
    assert len({r.user_name for r in records}) == 1200
    assert len(google_fake.requests_to("/members")) == 6
    assert len(google_fake.requests_to("/users")) == 3


def test_fetch_rehired_user_is_active_again(customer):
    connector = _connector(customer)
    before = {r.user_name: r for r in connector.fetch()}
    customer.get_user("104")["suspended"] = False

    after = {r.user_name: r for r in connector.fetch()}

    assert (before["104"].active, after["104"].active) == (False, True)


def test_fetch_email_change_keeps_the_same_id(customer):
    connector = _connector(customer)
    list(connector.fetch())
    customer.get_user("102")["primaryEmail"] = "grace.h@acme.example"

    after = {r.user_name: r for r in connector.fetch()}

    assert after["102"].email == "grace.h@acme.example"


def test_fetch_user_removed_from_chosen_groups_is_not_yielded(customer):
    connector = _connector(customer)
    customer.members["g-sales"].remove(("USER", "102"))

    records = [r.user_name for r in connector.fetch()]

    assert "102" not in records


def test_fetch_hidden_fields_yield_empty_values(customer):
    customer.hidden_fields = {"organizations", "relations"}

    ada = next(iter(_connector(customer).fetch()))

    assert (ada.department, ada.title, ada.manager_ref) == ("", "", "")


def test_fetch_deleted_group_needs_attention_and_archives_nobody(customer):
    connector = _connector(customer)
    customer.remove_group("g-sales")

    with pytest.raises(ConnectorConfigError) as caught:
        list(connector.fetch())

    assert caught.value.message == google_workspace.GROUP_GONE % "sales@acme.example"
    assert caught.value.needs_attention is True


def test_fetch_without_chosen_groups_is_refused(customer):
    with pytest.raises(ConnectorConfigError) as caught:
        list(_connector(customer, groups=()).fetch())

    assert caught.value.message == google_workspace.GROUPS_REQUIRED


def test_fetch_groups_not_a_list_is_refused(customer):
    connector = GoogleWorkspaceConnector(
        customer.oauth_client(), base_url=customer.url, options={"groups": "g-eng"}
    )

    with pytest.raises(ConnectorConfigError) as caught:
        list(connector.fetch())

    assert caught.value.message == google_workspace.GROUPS_INVALID


def test_fetch_service_account_signs_a_delegated_assertion(customer, service_account):
    records = list(_connector(customer, service_account).fetch())

    assert len(records) == 5
    (grant,) = customer.requests_to("/token")
    form = grant.form()
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(form["assertion"], options={"verify_signature": False})
    assert claims["sub"] == "admin@acme.example"
    assert claims["iss"] == SERVICE_ACCOUNT
    assert set(claims["scope"].split()) == set(google_workspace.SCOPES)
    assert jwt.get_unverified_header(form["assertion"])["kid"] == "key-1"


def test_fetch_service_account_for_non_admin_is_refused(customer, service_account):
    service_account["admin_email"] = "member@acme.example"

    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(customer, service_account).fetch())

    assert caught.value.message == google_workspace.GRANT_REFUSED % "HTTP 400"


def test_fetch_scopes_not_delegated_is_an_auth_error(
    customer, service_account, signing_key
):
    customer.service_account(
        SERVICE_ACCOUNT,
        signing_key.public_key(),
        scopes={"https://www.googleapis.com/auth/admin.directory.user.readonly"},
    )

    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(customer, service_account).fetch())

    assert (caught.value.status, caught.value.needs_attention) == (401, True)


def test_fetch_key_of_another_account_is_refused(customer, service_account):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    customer.service_account(SERVICE_ACCOUNT, other.public_key())

    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(customer, service_account).fetch())

    assert caught.value.code == "token_refused"


def test_fetch_revoked_refresh_token_is_an_auth_error(customer):
    credentials = customer.oauth_client()
    customer.refresh_tokens.clear()

    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(customer, credentials).fetch())

    assert caught.value.message == google_workspace.GRANT_REFUSED % "HTTP 400"


def test_fetch_token_expiring_mid_sync_is_renewed(google_fake):
    google_fake.add_users(*[user(f"{i}", f"P{i}", "Person") for i in range(700)])
    google_fake.add_group(
        "g-all", "all@acme.example", "All", [("USER", f"{i}") for i in range(700)]
    )
    connector = _connector(google_fake, groups=["g-all"])
    connector.test()
    google_fake.expire_tokens_after(5)

    records = list(connector.fetch())

    assert len(records) == 700
    assert google_fake.tokens_issued == 2


def test_fetch_token_refused_after_renewal_is_an_auth_error(customer):
    connector = _connector(customer)
    connector.test()
    customer.expire_tokens_after(0)
    customer.new_token_calls = 0

    with pytest.raises(ConnectorAuthError) as caught:
        list(connector.fetch())

    assert caught.value.status == 401


def test_fetch_failing_halfway_raises_after_first_page(google_fake):
    google_fake.add_users(*[user(f"{i}", f"P{i}", "Person") for i in range(700)])
    google_fake.add_group(
        "g-all", "all@acme.example", "All", [("USER", f"{i}") for i in range(700)]
    )
    google_fake.fail_listing_after(5)
    records = _connector(google_fake, groups=["g-all"]).fetch()
    first_page = [next(records) for _ in range(500)]

    with pytest.raises(ConnectorUnavailableError):
        next(records)

    assert len(first_page) == 500


def test_fetch_repeated_page_token_raises(customer):
    connector = _connector(customer, groups=["g-eng"])
    connector.test()
    customer.answer_next(200, {"members": [{"id": "101", "type": "USER"}]})
    customer.answer_next(
        200, {"users": [user("101", "Ada", "L")], "nextPageToken": "x"}
    )
    customer.answer_next(200, {"nextPageToken": "x"})

    with pytest.raises(ConnectorResponseError) as caught:
        list(connector.fetch())

    assert caught.value.message == google_workspace.PAGE_REPEATED


def test_fetch_rate_limit_reason_is_retried(customer):
    connector = _connector(customer)
    connector.test()
    customer.throttle(times=2, status=403, retry_after=None, body=RATE_LIMITED)

    records = list(connector.fetch())

    assert len(records) == 5


def test_fetch_429_waits_for_retry_after(customer):
    connector = _connector(customer)
    connector.test()
    customer.throttle(status=429, retry_after="1")
    started = time.monotonic()

    records = list(connector.fetch())

    assert time.monotonic() - started >= 1.0
    assert len(records) == 5


def test_fetch_forbidden_without_rate_reason_is_an_auth_error(customer):
    connector = _connector(customer)
    connector.test()
    customer.throttle(
        status=403,
        retry_after=None,
        body={"error": {"code": 403, "errors": [{"reason": "forbidden"}]}},
    )

    with pytest.raises(ConnectorAuthError) as caught:
        list(connector.fetch())

    assert caught.value.status == 403


def test_groups_lists_every_group_across_pages(google_fake):
    for i in range(250):
        google_fake.add_group(f"g{i}", f"g{i}@acme.example", f"Group {i}")

    groups = _connector(google_fake).groups()

    assert len(groups) == 250
    assert groups[0] == Group(
        id="g0", email="g0@acme.example", name="Group 0", members_count=0
    )
    assert len(google_fake.requests_to("/groups")) == 2


def test_test_valid_credentials_pass(customer):
    _connector(customer).test()

    assert [r.path for r in customer.requests] == [
        "/token",
        "/admin/directory/v1/users",
        "/admin/directory/v1/groups",
    ]


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({}, google_workspace.CREDENTIALS_KIND),
        ({"client_id": "c", "client_secret": "s"}, google_workspace.CREDENTIALS_KIND),
        (
            {"service_account": {"client_email": "x"}, "admin_email": "a@b"},
            google_workspace.SERVICE_ACCOUNT_INVALID,
        ),
        (
            {
                "service_account": {"client_email": "x", "private_key": "nope"},
                "admin_email": "a@b",
            },
            google_workspace.SERVICE_ACCOUNT_INVALID,
        ),
    ],
)
def test_connector_bad_credentials_are_refused(credentials, message):
    with pytest.raises(ConnectorConfigError) as caught:
        GoogleWorkspaceConnector(credentials)

    assert caught.value.message == message


def test_connector_service_account_without_admin_is_refused(service_account):
    del service_account["admin_email"]

    with pytest.raises(ConnectorConfigError) as caught:
        GoogleWorkspaceConnector(service_account)

    assert caught.value.message == google_workspace.ADMIN_EMAIL_INVALID


def test_connector_default_urls_are_google():
    connector = GoogleWorkspaceConnector(
        {"client_id": "c", "client_secret": "s", "refresh_token": "r"}
    )

    assert connector.base_url == "https://admin.googleapis.com"
    assert connector.token_url == "https://oauth2.googleapis.com/token"
