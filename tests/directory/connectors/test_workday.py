import time

import pytest

from directory.connectors import workday
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from directory.connectors.workday import WorkdayConnector
from tests.peers.hris.workday import COLUMNS, worker


def _credentials(fake, **changes):
    credentials = {
        "report_url": fake.report_url,
        "username": fake.username,
        "password": fake.password,
        "columns": dict(COLUMNS),
    }
    credentials.update(changes)
    return credentials


def _connector(fake, **changes):
    return WorkdayConnector(_credentials(fake, **changes))


def test_fetch_first_sync_maps_report_columns(workday_fake):
    workday_fake.add(
        worker(
            "21001",
            "Ada",
            "Lovelace",
            department="Engineering",
            title="Engineer",
            manager_id="21000",
        ),
        worker("21000", "Grace", "Hopper"),
    )

    records = list(_connector(workday_fake).fetch())

    assert [r.user_name for r in records] == ["21001", "21000"]
    ada = records[0]
    assert (ada.email, ada.first_name, ada.last_name, ada.active) == (
        "ada@acme.example",
        "Ada",
        "Lovelace",
        True,
    )
    assert (ada.department, ada.title, ada.manager_ref) == (
        "Engineering",
        "Engineer",
        "21000",
    )
    assert ada.attributes["Employee_ID"] == "21001"


def test_fetch_keeps_only_mapped_columns(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace", Base_Pay="120000"))

    (record,) = _connector(workday_fake).fetch()

    assert "Base_Pay" not in record.attributes
    assert record.attributes["Legal_Name_First_Name"] == "Ada"


def test_fetch_asks_for_json_and_keeps_prompts(workday_fake):
    url = workday_fake.report_url.replace("format=json", "format=xml&Effective=Now")

    list(_connector(workday_fake, report_url=url).fetch())

    (request,) = workday_fake.requests
    assert request.query == {"Effective": "Now", "format": "json"}


def test_fetch_inactive_worker_is_inactive(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace", active="0"))

    (record,) = _connector(workday_fake).fetch()

    assert record.active is False


@pytest.mark.parametrize(
    ("value", "active"),
    [("Yes", True), ("Active", True), ("No", False), ("Terminated", False)],
)
def test_fetch_status_words_are_read(workday_fake, value, active):
    workday_fake.add(worker("21001", "Ada", "Lovelace", active=value))

    (record,) = _connector(workday_fake).fetch()

    assert record.active is active


def test_fetch_rehired_worker_is_active_again(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace", active="0"))
    connector = _connector(workday_fake)
    (before,) = connector.fetch()
    workday_fake.get("21001")["active"] = "1"

    (after,) = connector.fetch()

    assert (before.active, after.active) == (False, True)


def test_fetch_email_change_keeps_the_same_id(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace"))
    connector = _connector(workday_fake)
    list(connector.fetch())
    workday_fake.get("21001")["email"] = "ada.king@acme.example"

    (after,) = connector.fetch()

    assert (after.user_name, after.email) == ("21001", "ada.king@acme.example")


def test_fetch_manager_by_email_column(workday_fake):
    workday_fake.columns["manager_email"] = "Manager_Email"
    workday_fake.add(
        worker("21001", "Ada", "Lovelace", manager_email="grace@acme.example"),
        worker("21000", "Grace", "Hopper"),
    )
    columns = {**COLUMNS, "manager_email": "Manager_Email"}
    del columns["manager_id"]

    records = list(_connector(workday_fake, columns=columns).fetch())

    assert [r.manager_ref for r in records] == ["grace@acme.example", ""]


def test_fetch_reference_cells_use_their_descriptor(workday_fake):
    workday_fake.add(
        worker(
            "21001",
            "Ada",
            "Lovelace",
            department=[{"Descriptor": "Engineering (Ada Lovelace)", "ID": "SO-1"}],
        )
    )

    (record,) = _connector(workday_fake).fetch()

    assert record.department == "Engineering (Ada Lovelace)"


def test_fetch_column_without_access_yields_empty_field(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace", department="Engineering"))
    workday_fake.hidden_fields = {"Supervisory_Organization"}

    (record,) = _connector(workday_fake).fetch()

    assert (record.department, record.active) == ("", True)


def test_fetch_status_column_without_access_refuses_to_guess(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace"))
    workday_fake.hidden_fields = {"Active_Status"}

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(workday_fake).fetch())

    assert caught.value.message == workday.STATUS_HIDDEN % "Active_Status"


def test_fetch_unreadable_status_refuses_to_guess(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace", active="Leave of Absence"))

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(workday_fake).fetch())

    assert caught.value.code == "status_unreadable"


def test_fetch_wrong_password_is_an_auth_error(workday_fake):
    with pytest.raises(ConnectorAuthError) as caught:
        list(_connector(workday_fake, password="expired").fetch())

    assert (caught.value.status, caught.value.needs_attention) == (401, True)


def test_fetch_unknown_report_is_a_response_error(workday_fake):
    url = workday_fake.report_url.replace("Progression_Workers", "Other")

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(workday_fake, report_url=url).fetch())

    assert caught.value.status == 404


def test_fetch_report_failing_raises(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace"))
    workday_fake.fail_listing_after(0)

    with pytest.raises(ConnectorUnavailableError):
        list(_connector(workday_fake).fetch())


def test_fetch_answer_without_entries_raises(workday_fake):
    workday_fake.answer_next(200, {"Report_Data": {}})

    with pytest.raises(ConnectorResponseError) as caught:
        list(_connector(workday_fake).fetch())

    assert caught.value.message == workday.REPORT_MALFORMED


def test_fetch_throttled_waits_for_retry_after(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace"))
    workday_fake.throttle(status=503, retry_after="1")
    started = time.monotonic()

    records = list(_connector(workday_fake).fetch())

    assert time.monotonic() - started >= 1.0
    assert len(records) == 1


def test_fetch_base_url_override_keeps_report_path(workday_fake):
    url = workday_fake.report_url.replace(workday_fake.url, "https://wd2.example")
    connector = WorkdayConnector(
        _credentials(workday_fake, report_url=url), base_url=workday_fake.url
    )
    workday_fake.add(worker("21001", "Ada", "Lovelace"))

    records = list(connector.fetch())

    assert len(records) == 1


def test_test_readable_report_passes(workday_fake):
    workday_fake.add(worker("21001", "Ada", "Lovelace"))

    _connector(workday_fake).test()

    assert len(workday_fake.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://wd2.example/ccx/service/Human_Resources/v40.0",
        "https://wd2.example/ccx/service/customreport2/tenant/report",
        "ftp://wd2.example/ccx/service/customreport2/t/o/r",
        "not a url",
    ],
)
def test_connector_bad_report_url_is_refused(workday_fake, url):
    with pytest.raises(ConnectorConfigError) as caught:
        _connector(workday_fake, report_url=url)

    assert caught.value.message == workday.REPORT_URL_INVALID


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["Employee_ID"], workday.COLUMNS_INVALID),
        ({"external_id": 3}, workday.COLUMNS_INVALID),
        (
            {"external_id": "ID", "active": "A", "salary": "Pay"},
            workday.COLUMN_FIELD_UNKNOWN % "salary",
        ),
        ({"external_id": "ID"}, workday.COLUMN_REQUIRED % "active"),
        ({"active": "A", "external_id": " "}, workday.COLUMN_REQUIRED % "external_id"),
    ],
)
def test_connector_bad_column_mapping_is_refused(workday_fake, columns, message):
    with pytest.raises(ConnectorConfigError) as caught:
        _connector(workday_fake, columns=columns)

    assert caught.value.message == message
