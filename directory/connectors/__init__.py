"""HR-system connectors: each provider's API read as a stream of `Record`s.

`CONNECTORS` maps a directory provider identifier to its connector class;
`connector_build` makes one from a directory's credentials, base URL and
options. Connectors read and translate only; the sync applies the records.
"""

from collections.abc import Callable

from directory.connectors.bamboohr import BambooHRConnector
from directory.connectors.base import Connector
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from directory.connectors.google_workspace import GoogleWorkspaceConnector, Group
from directory.connectors.gusto import GustoConnector
from directory.connectors.hibob import HiBobConnector
from directory.connectors.workday import WorkdayConnector

__all__ = [
    "CONNECTORS",
    "Connector",
    "ConnectorAuthError",
    "ConnectorConfigError",
    "ConnectorError",
    "ConnectorResponseError",
    "ConnectorUnavailableError",
    "Group",
    "connector_build",
]

PROVIDER_UNKNOWN = "There is no HR-system connector for %s."

CONNECTORS: dict[str, type[Connector]] = {
    connector.provider: connector
    for connector in (
        BambooHRConnector,
        GustoConnector,
        HiBobConnector,
        WorkdayConnector,
        GoogleWorkspaceConnector,
    )
}


def connector_build(
    *,
    provider: str,
    credentials: dict,
    base_url: str | None = None,
    options: dict | None = None,
    on_credentials_change: Callable[[dict], None] | None = None,
) -> Connector:
    """The connector for a provider, or `ConnectorConfigError` for an unknown one."""
    connector = CONNECTORS.get(provider)
    if connector is None:
        raise ConnectorConfigError(
            PROVIDER_UNKNOWN % str(provider)[:40], code="provider_unknown"
        )
    return connector(
        credentials,
        base_url or None,
        options,
        on_credentials_change=on_credentials_change,
    )
