import pytest

from directory.connectors import (
    CONNECTORS,
    PROVIDER_UNKNOWN,
    ConnectorConfigError,
    connector_build,
)
from directory.connectors.base import CREDENTIALS_NOT_A_DICT
from directory.connectors.gusto import GustoConnector


def test_connectors_cover_every_hr_provider():
    assert set(CONNECTORS) == {
        "bamboohr",
        "gusto",
        "hibob",
        "workday",
        "google-workspace",
    }


def test_connector_build_known_provider_passes_everything_on():
    saved = []

    connector = connector_build(
        provider="gusto",
        credentials={
            "company_uuid": "0e5ff1c8-5c54-4c8b-9d3b-6f3c2c7c8e10",
            "client_id": "c",
            "client_secret": "s",
            "refresh_token": "r",
        },
        base_url="https://api.gusto-demo.com/",
        options={"a": 1},
        on_credentials_change=saved.append,
    )
    connector.credentials_update(refresh_token="r2")

    assert isinstance(connector, GustoConnector)
    assert connector.base_url == "https://api.gusto-demo.com"
    assert connector.options == {"a": 1}
    assert saved[-1]["refresh_token"] == "r2"


def test_connector_build_empty_base_url_uses_provider_default():
    connector = connector_build(
        provider="hibob",
        credentials={"service_user_id": "S", "token": "t"},
        base_url="",
    )

    assert connector.base_url == "https://api.hibob.com"


def test_connector_build_unknown_provider_is_refused():
    with pytest.raises(ConnectorConfigError) as caught:
        connector_build(provider="okta-scim-v2", credentials={})

    assert caught.value.message == PROVIDER_UNKNOWN % "okta-scim-v2"


def test_connector_build_credentials_not_a_dict_are_refused():
    with pytest.raises(ConnectorConfigError) as caught:
        connector_build(provider="hibob", credentials=["S", "t"])

    assert caught.value.message == CREDENTIALS_NOT_A_DICT
