"""The errors a connector raises; the sync maps them to a directory's state."""

from progression.errors import ProgressionError


class ConnectorError(ProgressionError):
    """A connector could not read the directory; nothing it read may be used.

    `needs_attention` says whether a person must act (credentials, setup)
    before the next sync can succeed, as opposed to a passing outage.
    """

    code = "connector_error"
    needs_attention = False

    def __init__(self, message: str, *, code: str | None = None, status: int = 0):
        super().__init__(message, code=code)
        self.status = status


class ConnectorConfigError(ConnectorError):
    """The directory's credentials or options are incomplete or malformed."""

    code = "connector_config"
    needs_attention = True


class ConnectorAuthError(ConnectorError):
    """The provider refused the credentials: the directory needs attention."""

    code = "connector_auth"
    needs_attention = True


class ConnectorUnavailableError(ConnectorError):
    """The provider kept failing or throttling after every retry."""

    code = "connector_unavailable"


class ConnectorResponseError(ConnectorError):
    """The provider answered something we cannot read as its documented API."""

    code = "connector_response"
