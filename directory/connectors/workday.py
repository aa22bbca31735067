"""Workday: a custom report served as JSON (Reports-as-a-Service).

The customer builds an advanced custom report of their workers, enables it
as a web service and shares its JSON URL; an Integration System User reads it
with HTTP Basic. Column names are whatever the report's author chose, so the
admin maps them to ours (`columns`: our field to report column). The report
is not paged: it comes back whole. Workday leaves out empty values and the
columns the user may not see, so a missing active-status column stops the
fetch instead of counting as active.
"""

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from directory.connectors.base import Connector, pick, text
from directory.connectors.errors import ConnectorConfigError, ConnectorResponseError
from directory.provisioning import Record

REPORT_URL_INVALID = (
    "The Workday report URL is the report's JSON web service address: "
    "https://{host}/ccx/service/customreport2/{tenant}/{owner}/{report}."
)
COLUMNS_INVALID = "The Workday column mapping must map our field names to columns."
COLUMN_FIELD_UNKNOWN = "The Workday column mapping names unknown fields: %s."
COLUMN_REQUIRED = "The Workday column mapping needs a column for %s."
STATUS_HIDDEN = (
    "The Workday report has no value in the active-status column (%s) for a "
    "worker, so terminated people cannot be told apart. Give the integration "
    "user access to that field, or fix the mapping."
)
STATUS_UNREADABLE = "The Workday active-status column holds %r, not yes or no."
REPORT_MALFORMED = "Workday's report answer has no Report_Entry list."
WORKER_WITHOUT_ID = "The Workday report lists a worker without an id (column %s)."

FIELDS = frozenset(
    {
        "external_id",
        "email",
        "first_name",
        "last_name",
        "manager_id",
        "manager_email",
        "department",
        "title",
        "active",
    }
)
REQUIRED_FIELDS = ("external_id", "active")
ACTIVE_VALUES = frozenset({"1", "true", "yes", "y", "active"})
INACTIVE_VALUES = frozenset({"0", "false", "no", "n", "inactive", "terminated"})
REPORT_PATH = "/ccx/service/customreport2/"


class WorkdayConnector(Connector):
    provider = "workday"
    label = "Workday"
    default_base_url = ""
    required_credentials = ("report_url", "username", "password")

    def check_credentials(self) -> None:
        super().check_credentials()
        parts = urlsplit(self.credentials["report_url"].strip())
        segments = parts.path[len(REPORT_PATH) :].strip("/").split("/")
        if (
            parts.scheme not in {"https", "http"}
            or not parts.hostname
            or not parts.path.startswith(REPORT_PATH)
            or len(segments) != 3
            or not all(segments)
        ):
            raise ConnectorConfigError(REPORT_URL_INVALID, code="report_url_invalid")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        # The admin's prompts stay; the format is always JSON.
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "format"]
        self._report_path = urlunsplit(
            ("", "", parts.path, urlencode([*query, ("format", "json")]), "")
        )
        self.columns = _columns(self.credentials.get("columns"))

    def default_base(self) -> str:
        return self._origin

    def test(self) -> None:
        for entry in self._entries():
            self._active(entry)

    def fetch(self) -> Iterator[Record]:
        for entry in self._entries():
            yield self._record(entry)

    def _entries(self) -> Iterator[dict]:
        """The report's entries, read from the one answer one at a time."""
        pair = f"{self.credentials['username'].strip()}:{self.credentials['password']}"
        return self.http.items(
            "GET",
            self._report_path,
            "Report_Entry",
            malformed=REPORT_MALFORMED,
            headers={
                "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                "Accept": "application/json",
            },
        )

    def _cell(self, entry: dict, field: str) -> str:
        column = self.columns.get(field)
        return _scalar(entry.get(column)) if column else ""

    def _active(self, entry: dict) -> bool:
        column = self.columns["active"]
        value = _scalar(entry.get(column)).lower()
        if not value:
            raise ConnectorResponseError(STATUS_HIDDEN % column, code="status_hidden")
        if value in ACTIVE_VALUES:
            return True
        if value in INACTIVE_VALUES:
            return False
        raise ConnectorResponseError(
            STATUS_UNREADABLE % value[:40], code="status_unreadable"
        )

    def _record(self, entry: dict) -> Record:
        worker_id = self._cell(entry, "external_id")
        if not worker_id:
            raise ConnectorResponseError(
                WORKER_WITHOUT_ID % self.columns["external_id"],
                code="employee_without_id",
            )
        return Record(
            user_name=worker_id,
            external_id=worker_id,
            email=self._cell(entry, "email"),
            first_name=self._cell(entry, "first_name"),
            last_name=self._cell(entry, "last_name"),
            active=self._active(entry),
            manager_ref=self._cell(entry, "manager_id")
            or self._cell(entry, "manager_email"),
            department=self._cell(entry, "department"),
            title=self._cell(entry, "title"),
            attributes=pick(entry, self.columns.values()),
        )


def _columns(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ConnectorConfigError(COLUMNS_INVALID, code="columns_invalid")
    columns = {k.strip(): v.strip() for k, v in mapping.items() if v.strip()}
    unknown = sorted(set(columns) - FIELDS)
    if unknown:
        raise ConnectorConfigError(
            COLUMN_FIELD_UNKNOWN % ", ".join(unknown), code="column_field_unknown"
        )
    for field in REQUIRED_FIELDS:
        if field not in columns:
            raise ConnectorConfigError(COLUMN_REQUIRED % field, code="column_required")
    return columns


def _scalar(value: Any) -> str:
    """A report cell as text: references carry a Descriptor; lists their first."""
    if isinstance(value, list):
        return _scalar(value[0]) if value else ""
    if isinstance(value, dict):
        return text(value.get("Descriptor") or value.get("ID"))
    if isinstance(value, bool):
        return "1" if value else "0"
    return text(value)
