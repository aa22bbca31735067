import time
from datetime import timedelta

import pytest
from django.utils import timezone

from directory.connectors import bamboohr, base, http
from directory.connectors.bamboohr import BambooHRConnector
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from tests.peers.hris.bamboohr import employee


def _connector(fake, **credentials):
    credentials = {"subdomain": "acme", "api_key": fake.api_key, **credentials}
    return BambooHRConnector(credentials, base_url=fake.url)


def _days(n):
    return (timezone.now().date() + timedelta(days=n)).isoformat()


def test_fetch_first_sync_yields_every_employee(bamboohr_fake):
    bamboohr_fake.add(
        employee(1, "Ada", "Lovelace", department="Engineering", jobTitle="Engineer"),
        employee(2, "Grace", "Hopper"),
    )

    records = list(_connector(bamboohr_fake).fetch())

    assert [r.user_name for r in records] == ["1", "2"]
    ada = records[0]
    assert (ada.external_id, ada.email, ada.first_name, ada.last_name) == (
        "1",
        "ada@acme.example",
        "Ada",
        "Lovelace",
    )
    assert (ada.department, ada.title, ada.active) == ("Engineering", "Engineer", True)
    assert ada.attributes["workEmail"] == "ada@acme.example"


def test_fetch_runs_report_with_terminated_people_in_json(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))

    list(_connector(bamboohr_fake).fetch())

    (request,) = bamboohr_fake.requests
    assert request.path == "/api/gateway.php/acme/v1/reports/custom"
    assert request.query == {"format": "JSON", "onlyCurrent": "false"}
    assert request.headers["accept"] == "application/json"
    assert set(request.json()["fields"]) == set(bamboohr.REPORT_FIELDS)


def test_fetch_inactive_status_is_inactive(bamboohr_fake):
    bamboohr_fake.add(
        employee(1, "Ada", "Lovelace", status="Inactive", terminationDate=_days(-3))
    )

    (record,) = _connector(bamboohr_fake).fetch()

    assert record.active is False


def test_fetch_termination_date_passed_is_inactive(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace", terminationDate=_days(0)))

    (record,) = _connector(bamboohr_fake).fetch()

    assert record.active is False


def test_fetch_termination_date_ahead_stays_active(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace", terminationDate=_days(10)))

    (record,) = _connector(bamboohr_fake).fetch()

    assert record.active is True


def test_fetch_rehired_after_termination_is_active(bamboohr_fake):
    bamboohr_fake.add(
        employee(
            1,
            "Ada",
            "Lovelace",
            status="Inactive",
            hireDate="2019-01-01",
            terminationDate=_days(-100),
        )
    )
    connector = _connector(bamboohr_fake)
    (before,) = connector.fetch()
    bamboohr_fake.get(1).update(status="Active", hireDate=_days(-5))

    (after,) = connector.fetch()

    assert (before.active, after.active) == (False, True)
    assert after.external_id == before.external_id


def test_fetch_email_change_keeps_the_same_id(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))
    connector = _connector(bamboohr_fake)
    (before,) = connector.fetch()
    bamboohr_fake.get(1)["workEmail"] = "ada.king@acme.example"

    (after,) = connector.fetch()

    assert (before.user_name, after.user_name) == ("1", "1")
    assert after.email == "ada.king@acme.example"


def test_fetch_manager_listed_after_report_is_referenced_by_id(bamboohr_fake):
    bamboohr_fake.add(
        employee(
            2,
            "Grace",
            "Hopper",
            supervisorEId="1",
            supervisorEmail="ada@acme.example",
        ),
        employee(1, "Ada", "Lovelace"),
    )

    records = list(_connector(bamboohr_fake).fetch())

    assert [(r.external_id, r.manager_ref) for r in records] == [("2", "1"), ("1", "")]


def test_fetch_manager_with_email_only_is_referenced_by_email(bamboohr_fake):
    bamboohr_fake.add(
        employee(2, "Grace", "Hopper", supervisorEmail="ada@acme.example")
    )

    (record,) = _connector(bamboohr_fake).fetch()

    assert record.manager_ref == "ada@acme.example"


def test_fetch_hidden_department_yields_empty_department(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace", department="Engineering"))
    bamboohr_fake.hidden_fields = {"department", "jobTitle"}

    (record,) = _connector(bamboohr_fake).fetch()

    assert (record.department, record.title, record.active) == ("", "", True)
    assert "department" not in record.attributes


def test_fetch_hidden_status_refuses_to_guess(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))
    bamboohr_fake.hidden_fields = {"status"}

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(bamboohr_fake).fetch())

    assert caught.value.message == bamboohr.STATUS_HIDDEN


def test_fetch_revoked_key_is_an_auth_error(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))

    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(bamboohr_fake, api_key="revoked").fetch())

    assert caught.value.status == 401
    assert caught.value.needs_attention is True
    assert caught.value.message == http.AUTH_REFUSED % 401


def test_fetch_unknown_company_is_a_response_error(bamboohr_fake):
    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(bamboohr_fake, subdomain="globex").fetch())

    assert caught.value.status == 404


def test_fetch_server_failing_raises_after_bounded_retries(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))
    bamboohr_fake.fail_listing_after(0)

    with pytest.raises(ConnectorUnavailableError) as caught:
        list(_connector(bamboohr_fake).fetch())

    assert caught.value.needs_attention is False
    assert len(bamboohr_fake.requests) == http.MAX_ATTEMPTS


def test_fetch_throttled_waits_for_retry_after(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))
    bamboohr_fake.throttle(status=503, retry_after="1")
    started = time.monotonic()

    records = list(_connector(bamboohr_fake).fetch())

    assert time.monotonic() - started >= 1.0
    assert [r.user_name for r in records] == ["1"]
    assert len(bamboohr_fake.requests) == 2


def test_fetch_retry_after_beyond_bound_gives_up(bamboohr_fake):
    bamboohr_fake.throttle(status=503, retry_after="3600")

    with pytest.raises(ConnectorUnavailableError) as caught:
        list(_connector(bamboohr_fake).fetch())

    assert caught.value.code == "throttled"
    assert len(bamboohr_fake.requests) == 1


def test_test_valid_key_passes(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))

    _connector(bamboohr_fake).test()

    assert bamboohr_fake.requests[0].json()["fields"] == ["id", "status"]


def test_test_hidden_status_fails(bamboohr_fake):
    bamboohr_fake.add(employee(1, "Ada", "Lovelace"))
    bamboohr_fake.hidden_fields = {"status"}

    with pytest.raises(ConnectorResponseError) as caught:
        _connector(bamboohr_fake).test()

    assert caught.value.code == "status_hidden"


def test_connector_full_host_as_subdomain_is_reduced(bamboohr_fake):
    connector = _connector(bamboohr_fake, subdomain="https://Acme.bamboohr.com")

    assert connector.subdomain == "acme"


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"api_key": "k"}, base.CREDENTIAL_MISSING % "subdomain"),
        ({"subdomain": "acme", "api_key": ""}, base.CREDENTIAL_MISSING % "api_key"),
        ({"subdomain": "ac me", "api_key": "k"}, bamboohr.SUBDOMAIN_INVALID),
        ({"subdomain": "../x", "api_key": "k"}, bamboohr.SUBDOMAIN_INVALID),
    ],
)
def test_connector_bad_credentials_are_refused(credentials, message):
    with pytest.raises(ConnectorConfigError) as caught:
        BambooHRConnector(credentials)

    assert caught.value.message == message


def test_connector_default_base_url_is_bamboohr():
    connector = BambooHRConnector({"subdomain": "acme", "api_key": "k"})

    assert connector.base_url == "https://api.bamboohr.com"


def test_fetch_address_not_allowed_is_a_config_error(bamboohr_fake, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(ConnectorConfigError) as caught:
        list(_connector(bamboohr_fake).fetch())

    assert caught.value.code == "address_refused"
