import time
from datetime import timedelta

import pytest
from django.utils import timezone

from directory.connectors import base, gusto
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from directory.connectors.gusto import GustoConnector
from tests.peers.hris.gusto import employee


def _connector(fake, saved=None, **credentials):
    tokens = fake.issue()
    credentials = {
        "company_uuid": fake.company_uuid,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        **tokens,
        **credentials,
    }
    return GustoConnector(
        credentials,
        base_url=fake.url,
        on_credentials_change=None if saved is None else saved.append,
    )


def _days(n):
    return (timezone.now().date() + timedelta(days=n)).isoformat()


def _people(n):
    return [employee(f"P{i}", "Person", uuid=f"uuid-{i:05d}") for i in range(n)]


def test_fetch_first_sync_reads_every_page(gusto_fake):
    gusto_fake.add(*_people(230))

    records = list(_connector(gusto_fake).fetch())

    assert len(records) == 230
    assert [r.external_id for r in records[:2]] == ["uuid-00000", "uuid-00001"]
    pages = gusto_fake.requests_to("/employees")
    assert [(r.query["page"], r.query["per"]) for r in pages] == [
        ("1", "100"),
        ("2", "100"),
        ("3", "100"),
    ]
    assert "terminated" not in pages[0].query


def test_fetch_pages_share_one_connection(gusto_fake):
    gusto_fake.add(*_people(230))

    with _connector(gusto_fake) as connector:
        list(connector.fetch())

    pages = gusto_fake.requests_to("/employees")
    assert len({r.client_port for r in pages}) == 1


def test_fetch_exact_page_multiple_stops_on_empty_page(gusto_fake):
    gusto_fake.add(*_people(200))

    records = list(_connector(gusto_fake).fetch())

    assert len(records) == 200
    assert len(gusto_fake.requests_to("/employees")) == 3


def test_fetch_maps_employee_fields(gusto_fake):
    gusto_fake.add(
        employee(
            "Ada",
            "Lovelace",
            uuid="uuid-ada",
            department="Engineering",
            manager_uuid="uuid-boss",
            jobs=[
                {"uuid": "j1", "title": "Intern", "primary": False},
                {"uuid": "j2", "title": "Engineer", "primary": True},
            ],
        )
    )

    (record,) = _connector(gusto_fake).fetch()

    assert record.user_name == "uuid-ada"
    assert (record.email, record.first_name, record.last_name) == (
        "ada@acme.example",
        "Ada",
        "Lovelace",
    )
    assert (record.department, record.title, record.manager_ref) == (
        "Engineering",
        "Engineer",
        "uuid-boss",
    )
    assert record.active is True


def test_fetch_keeps_no_pay_or_personal_data(gusto_fake):
    gusto_fake.add(
        employee(
            "Ada",
            "Lovelace",
            date_of_birth="1815-12-10",
            ssn="123-45-6789",
            jobs=[{"uuid": "j1", "title": "Engineer", "primary": True, "rate": "99"}],
        )
    )

    (record,) = _connector(gusto_fake).fetch()

    assert "date_of_birth" not in record.attributes
    assert "ssn" not in record.attributes
    assert record.attributes["jobs"] == [
        {"uuid": "j1", "title": "Engineer", "primary": True}
    ]


def test_fetch_terminated_employee_is_inactive(gusto_fake):
    gusto_fake.add(
        employee(
            "Ada",
            "Lovelace",
            terminated=True,
            terminations=[{"uuid": "t1", "active": True, "effective_date": _days(-1)}],
        )
    )

    (record,) = _connector(gusto_fake).fetch()

    assert record.active is False


def test_fetch_termination_ahead_stays_active(gusto_fake):
    gusto_fake.add(
        employee(
            "Ada",
            "Lovelace",
            terminated=True,
            terminations=[{"uuid": "t1", "active": True, "effective_date": _days(7)}],
        )
    )

    (record,) = _connector(gusto_fake).fetch()

    assert record.active is True


def test_fetch_rehired_employee_is_active_again(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace", uuid="uuid-ada", terminated=True))
    connector = _connector(gusto_fake)
    (before,) = connector.fetch()
    gusto_fake.get("uuid-ada").update(terminated=False)

    (after,) = connector.fetch()

    assert (before.active, after.active) == (False, True)


def test_fetch_email_change_keeps_the_same_uuid(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace", uuid="uuid-ada"))
    connector = _connector(gusto_fake)
    list(connector.fetch())
    gusto_fake.get("uuid-ada")["work_email"] = "ada.king@acme.example"

    (after,) = connector.fetch()

    assert (after.user_name, after.email) == ("uuid-ada", "ada.king@acme.example")


def test_fetch_manager_listed_after_report_keeps_order(gusto_fake):
    gusto_fake.add(
        employee("Grace", "Hopper", uuid="uuid-grace", manager_uuid="uuid-ada"),
        employee("Ada", "Lovelace", uuid="uuid-ada"),
    )

    records = list(_connector(gusto_fake).fetch())

    assert [(r.external_id, r.manager_ref) for r in records] == [
        ("uuid-grace", "uuid-ada"),
        ("uuid-ada", ""),
    ]


def test_fetch_hidden_work_email_falls_back_to_email(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace", department="Engineering"))
    gusto_fake.hidden_fields = {"work_email", "department"}

    (record,) = _connector(gusto_fake).fetch()

    assert (record.email, record.department) == ("ada@home.example", "")


def test_fetch_hidden_terminated_flag_refuses_to_guess(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace"))
    gusto_fake.hidden_fields = {"terminated"}

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(gusto_fake).fetch())

    assert caught.value.message == gusto.STATUS_HIDDEN


def test_fetch_token_expiring_mid_sync_refreshes_and_continues(gusto_fake):
    gusto_fake.add(*_people(250))
    saved = []
    connector = _connector(gusto_fake, saved)
    old_refresh = connector.credentials["refresh_token"]
    gusto_fake.expire_tokens_after(1)

    records = list(connector.fetch())

    assert len(records) == 250
    assert gusto_fake.refreshes == 1
    assert saved[-1]["refresh_token"] != old_refresh
    assert saved[-1]["refresh_token"] in gusto_fake.refresh_tokens
    assert old_refresh not in gusto_fake.refresh_tokens
    assert connector.credentials == saved[-1]


def test_fetch_without_access_token_refreshes_first(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace"))
    connector = _connector(gusto_fake, access_token="")

    records = list(connector.fetch())

    assert len(records) == 1
    assert gusto_fake.requests[0].path == "/oauth/token"


def test_fetch_refused_refresh_token_is_an_auth_error(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace"))
    connector = _connector(gusto_fake, refresh_token="used-already")
    gusto_fake.expire_tokens_after(0)

    with pytest.raises(ConnectorAuthError) as caught:
        list(connector.fetch())

    assert caught.value.message == gusto.REFRESH_REFUSED
    assert caught.value.needs_attention is True


def test_fetch_wrong_client_secret_is_an_auth_error(gusto_fake):
    connector = _connector(gusto_fake, client_secret="wrong", access_token="")

    with pytest.raises(ConnectorAuthError) as caught:
        list(connector.fetch())

    assert (caught.value.code, caught.value.status) == ("refresh_refused", 401)


def test_fetch_second_refusal_after_refresh_is_an_auth_error(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace"))
    connector = _connector(gusto_fake, access_token="forged")
    gusto_fake.new_token_calls = 0

    with pytest.raises(ConnectorAuthError) as caught:
        list(connector.fetch())

    assert caught.value.status == 401
    assert gusto_fake.refreshes == 1


def test_fetch_failing_halfway_raises_after_first_page(gusto_fake):
    gusto_fake.add(*_people(150))
    gusto_fake.fail_listing_after(1)
    records = _connector(gusto_fake).fetch()
    first_page = [next(records) for _ in range(100)]

    with pytest.raises(ConnectorUnavailableError):
        next(records)

    assert len(first_page) == 100


def test_fetch_rate_limited_waits_for_retry_after(gusto_fake):
    gusto_fake.add(employee("Ada", "Lovelace"))
    connector = _connector(gusto_fake)
    gusto_fake.throttle(status=429, retry_after="1")
    started = time.monotonic()

    records = list(connector.fetch())

    assert time.monotonic() - started >= 1.0
    assert len(records) == 1


def test_fetch_other_company_is_refused(gusto_fake):
    connector = _connector(
        gusto_fake, company_uuid="11111111-2222-3333-4444-555555555555"
    )

    with pytest.raises(ConnectorAuthError) as caught:
        list(connector.fetch())

    assert caught.value.status == 403


def test_test_matching_company_passes(gusto_fake):
    _connector(gusto_fake).test()

    assert gusto_fake.requests[-1].path == "/v1/token_info"


def test_test_token_for_other_company_fails(gusto_fake):
    other = "11111111-2222-3333-4444-555555555555"

    with pytest.raises(ConnectorConfigError) as caught:
        _connector(gusto_fake, company_uuid=other).test()

    assert caught.value.message == gusto.COMPANY_MISMATCH % other


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("client_secret", base.CREDENTIAL_MISSING % "client_secret"),
        ("refresh_token", base.CREDENTIAL_MISSING % "refresh_token"),
    ],
)
def test_connector_missing_credential_is_refused(missing, message):
    credentials = {
        "company_uuid": "0e5ff1c8-5c54-4c8b-9d3b-6f3c2c7c8e10",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
    }
    del credentials[missing]

    with pytest.raises(ConnectorConfigError) as caught:
        GustoConnector(credentials)

    assert caught.value.message == message


def test_connector_company_uuid_with_path_is_refused():
    credentials = {
        "company_uuid": "../../v1/me",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
    }

    with pytest.raises(ConnectorConfigError) as caught:
        GustoConnector(credentials)

    assert caught.value.message == gusto.COMPANY_UUID_INVALID
