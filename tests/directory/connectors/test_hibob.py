import time

import pytest

from directory.connectors import base, hibob, http
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from directory.connectors.hibob import HiBobConnector
from tests.peers.hris.hibob import employee, reports_to


def _connector(fake, **credentials):
    credentials = {
        "service_user_id": fake.service_user_id,
        "token": fake.token,
        **credentials,
    }
    return HiBobConnector(credentials, base_url=fake.url)


def _answer_search(fake, body):
    """Queue `body` as the search's answer, after the two named lists' own."""
    fake.answer_next(200, {"values": []})
    fake.answer_next(200, {"values": []})
    fake.answer_next(200, body)


@pytest.fixture
def company(hibob_fake):
    engineering = hibob_fake.list_item("department", "101", "Engineering")
    hibob_fake.list_item("department", "102", "Platform", parent=engineering)
    hibob_fake.list_item("title", "201", "Engineer")
    return hibob_fake


def test_fetch_first_sync_yields_people_with_named_values(company):
    ada = employee(1, "Ada", "Lovelace", work__department="102", work__title="201")
    company.add(ada, employee(2, "Grace", "Hopper", work__reportsTo=reports_to(ada)))

    records = list(_connector(company).fetch())

    assert [r.user_name for r in records] == ["1", "2"]
    first = records[0]
    assert (first.email, first.first_name, first.last_name, first.active) == (
        "ada@acme.example",
        "Ada",
        "Lovelace",
        True,
    )
    assert (first.department, first.title) == ("Platform", "Engineer")
    assert records[1].manager_ref == "1"


def test_fetch_searches_with_inactive_people_and_ids(company):
    company.add(employee(1, "Ada", "Lovelace"))

    list(_connector(company).fetch())

    (search,) = company.requests_to("/v1/people/search")
    body = search.json()
    assert body["showInactive"] is True
    assert "humanReadable" not in body
    assert set(body["fields"]) == set(hibob.SEARCH_FIELDS)
    assert {r.path for r in company.requests} >= {
        "/v1/company/named-lists/department",
        "/v1/company/named-lists/title",
    }


def test_fetch_inactive_employee_is_inactive(company):
    company.add(
        employee(
            1,
            "Ada",
            "Lovelace",
            internal__status="Inactive",
            internal__terminationDate="2026-01-31",
        )
    )

    (record,) = _connector(company).fetch()

    assert record.active is False


def test_fetch_rehired_employee_is_active_again(company):
    company.add(employee(1, "Ada", "Lovelace", internal__status="Inactive"))
    connector = _connector(company)
    (before,) = connector.fetch()
    company.get(1)["internal.status"] = "Active"

    (after,) = connector.fetch()

    assert (before.active, after.active) == (False, True)


def test_fetch_email_change_keeps_the_same_id(company):
    company.add(employee(1, "Ada", "Lovelace"))
    connector = _connector(company)
    list(connector.fetch())
    company.get(1)["root.email"] = "ada.king@acme.example"

    (after,) = connector.fetch()

    assert (after.user_name, after.email) == ("1", "ada.king@acme.example")


def test_fetch_manager_listed_after_report_is_referenced_by_id(company):
    ada = employee(1, "Ada", "Lovelace")
    company.add(employee(2, "Grace", "Hopper", work__reportsTo=reports_to(ada)), ada)

    records = list(_connector(company).fetch())

    assert [(r.external_id, r.manager_ref) for r in records] == [("2", "1"), ("1", "")]


def test_fetch_slash_path_answers_read_the_same(company):
    ada = employee(1, "Ada", "Lovelace", work__department="101")
    company.add(ada, employee(2, "Grace", "Hopper", work__reportsTo=reports_to(ada)))
    company.slash_paths = True

    records = list(_connector(company).fetch())

    assert [(r.email, r.department, r.manager_ref) for r in records] == [
        ("ada@acme.example", "Engineering", ""),
        ("grace@acme.example", "", "1"),
    ]


def test_fetch_department_not_in_named_list_is_kept_raw(company):
    company.add(employee(1, "Ada", "Lovelace", work__department="Research"))

    (record,) = _connector(company).fetch()

    assert record.department == "Research"


def test_fetch_unreadable_named_lists_keep_raw_values(company):
    company.add(employee(1, "Ada", "Lovelace", work__department="101"))
    company.named_lists_forbidden = True

    (record,) = _connector(company).fetch()

    assert record.department == "101"


def test_fetch_work_category_hidden_yields_empty_fields(company):
    company.add(employee(1, "Ada", "Lovelace", work__department="101"))
    company.hidden_fields = {"work"}

    (record,) = _connector(company).fetch()

    assert (record.department, record.title, record.manager_ref) == ("", "", "")
    assert record.active is True


def test_fetch_hidden_status_refuses_to_guess(company):
    company.add(employee(1, "Ada", "Lovelace"))
    company.hidden_fields = {"internal.status"}

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(company).fetch())

    assert caught.value.message == hibob.STATUS_HIDDEN


def test_fetch_revoked_token_is_an_auth_error(company):
    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(company, token="revoked").fetch())

    assert (caught.value.status, caught.value.needs_attention) == (401, True)


def test_fetch_token_revoked_mid_fetch_is_an_auth_error(company):
    company.add(employee(1, "Ada", "Lovelace"))
    company.refuse_after(2)

    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(company).fetch())

    assert caught.value.status == 401
    assert [r.path for r in company.requests][-1] == "/v1/people/search"


def test_fetch_search_failing_raises(company):
    company.add(employee(1, "Ada", "Lovelace"))
    company.fail_listing_after(0)

    with pytest.raises(ConnectorUnavailableError):
        list(_connector(company).fetch())


def test_fetch_search_answer_without_employees_raises(company):
    connector = _connector(company)
    company.answer_next(403, {"error": "Forbidden"})
    company.answer_next(403, {"error": "Forbidden"})
    company.answer_next(200, {"people": []})

    with pytest.raises(ConnectorResponseError) as caught:
        list(connector.fetch())

    assert caught.value.message == hibob.SEARCH_MALFORMED


def test_fetch_search_answer_not_json_raises(company):
    connector = _connector(company)
    company.answer_next(200, "{}")
    company.answer_next(200, "{}")
    company.answer_next(200, "<html>maintenance</html>", content_type="text/html")

    with pytest.raises(ConnectorResponseError) as caught:
        list(connector.fetch())

    assert caught.value.code == "not_json"


def test_fetch_employees_not_a_list_raises(company):
    connector = _connector(company)
    _answer_search(company, {"employees": {"root.id": "1"}})

    with pytest.raises(ConnectorResponseError) as caught:
        list(connector.fetch())

    assert caught.value.code == "answer_malformed"


def test_fetch_employee_not_an_object_raises(company):
    connector = _connector(company)
    ada = {"id": "1", "firstName": "Ada", "internal": {"status": "Active"}}
    _answer_search(company, {"employees": [ada, "2"]})

    with pytest.raises(ConnectorResponseError) as caught:
        list(connector.fetch())

    assert caught.value.code == "answer_malformed"


def test_fetch_answer_cut_short_raises_not_json(company):
    connector = _connector(company)
    ada = '{"id": "1", "internal": {"status": "Active"}}'
    _answer_search(company, '{"employees": [' + ada + ', {"id": "2", "inter')

    with pytest.raises(ConnectorResponseError) as caught:
        list(connector.fetch())

    assert caught.value.code == "not_json"


def test_fetch_answer_larger_than_an_api_page_is_read(company, monkeypatch):
    # The whole company in one answer may exceed what other answers may be.
    monkeypatch.setattr(http, "MAX_BYTES", 2000)
    company.add(*(employee(n, "Ada", f"Lovelace {n}") for n in range(1, 51)))

    records = list(_connector(company).fetch())

    assert [r.user_name for r in records] == [str(n) for n in range(1, 51)]


def test_fetch_answer_over_the_streamed_cap_raises(company, monkeypatch):
    monkeypatch.setattr(http, "SPOOLED_MAX_BYTES", 2000)
    company.add(*(employee(n, "Ada", f"Lovelace {n}") for n in range(1, 51)))

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(company).fetch())

    assert caught.value.message == http.TOO_LARGE


def test_fetch_rate_limited_waits_until_reset(company):
    company.add(employee(1, "Ada", "Lovelace"))
    company.search_limit = 1
    company.window_seconds = 1
    connector = _connector(company)
    connector.test()
    started = time.monotonic()

    records = list(connector.fetch())

    assert len(records) == 1
    searches = company.requests_to("/v1/people/search")
    assert len(searches) == 3
    assert searches[2].received_at - searches[0].received_at >= 1.0
    assert time.monotonic() - started < 3.0


def test_test_valid_service_user_passes(company):
    company.add(employee(1, "Ada", "Lovelace"))

    _connector(company).test()

    assert company.requests[0].json()["fields"] == ["root.id", "internal.status"]


def test_test_hidden_status_fails(company):
    company.add(employee(1, "Ada", "Lovelace"))
    company.hidden_fields = {"internal"}

    with pytest.raises(ConnectorResponseError) as caught:
        _connector(company).test()

    assert caught.value.code == "status_hidden"


@pytest.mark.parametrize("missing", ["service_user_id", "token"])
def test_connector_missing_credential_is_refused(missing):
    credentials = {"service_user_id": "S", "token": "t"}
    del credentials[missing]

    with pytest.raises(ConnectorConfigError) as caught:
        HiBobConnector(credentials)

    assert caught.value.message == base.CREDENTIAL_MISSING % missing


def test_connector_default_base_url_is_hibob():
    connector = HiBobConnector({"service_user_id": "S", "token": "t"})

    assert connector.base_url == "https://api.hibob.com"
