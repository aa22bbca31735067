"""What every HR-system connector is.

A connector only translates one provider's API into `Record`s. It is built
from the directory's decrypted credentials, an optional base URL (the
provider's API root by default; a sandbox, a regional host or a test server
otherwise) and the directory's options. It never writes anything: the sync
decides what the records mean for the organisation's people.
"""

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, ClassVar

from directory.connectors.errors import ConnectorConfigError
from directory.connectors.http import HttpClient
from directory.provisioning import Record

CREDENTIALS_NOT_A_DICT = "The credentials must be a JSON object."
CREDENTIAL_MISSING = "The credentials need %s."


class Connector:
    """One provider's API as a stream of records."""

    provider: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str]
    required_credentials: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        credentials: dict,
        base_url: str | None = None,
        options: dict | None = None,
        *,
        on_credentials_change: Callable[[dict], None] | None = None,
    ):
        if not isinstance(credentials, dict):
            raise ConnectorConfigError(CREDENTIALS_NOT_A_DICT, code="credentials_type")
        self.credentials = dict(credentials)
        self.options = dict(options or {})
        self.on_credentials_change = on_credentials_change
        self.check_credentials()
        self.base_url = (base_url or self.default_base()).rstrip("/")
        self.http = HttpClient(self.base_url, throttled=self.throttled)

    def check_credentials(self) -> None:
        """Refuse credentials that lack a field; providers check more."""
        for name in self.required_credentials:
            value = self.credentials.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ConnectorConfigError(
                    CREDENTIAL_MISSING % name, code="credential_missing"
                )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        """Release the connections kept alive between requests."""
        self.http.close()

    def default_base(self) -> str:
        """The provider's API root, used unless the directory overrides it."""
        return self.default_base_url

    def credentials_update(self, **changes: str) -> None:
        """Keep tokens the provider rotated, and hand them to whoever stores them.

        Some providers issue single-use refresh tokens, so the new ones must be
        saved even when the sync that obtained them fails afterwards.
        """
        self.credentials.update(changes)
        if self.on_credentials_change is not None:
            self.on_credentials_change(dict(self.credentials))

    def throttled(self, response) -> bool:
        """Say whether an error answer is the provider's way of throttling."""
        return False

    def test(self) -> None:
        """Make one cheap authenticated call; raise a `ConnectorError` if it fails."""
        raise NotImplementedError

    def fetch(self) -> Iterator[Record]:
        """Yield every person the directory holds, page by page.

        A fetch that fails part way raises; the records already yielded must
        then be discarded by the caller.
        """
        raise NotImplementedError


def pick(record: dict, keys) -> dict:
    """The fields of a provider's record that are kept as its raw attributes.

    Providers return more about a person than provisioning needs (addresses,
    birth dates, phone numbers); only what the sync uses is kept.
    """
    return {key: record[key] for key in keys if key in record}


def text(value: Any) -> str:
    """A provider's scalar as stripped text; None, lists and objects become ''."""
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def parse_date(value: Any) -> date | None:
    """An ISO date (a datetime's date part too); BambooHR's 0000-00-00 is None."""
    raw = text(value)[:10]
    if not raw or raw.startswith("0000"):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None
