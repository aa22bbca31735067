"""HiBob: one people search with inactive people, departments and titles named.

A service user authenticates with HTTP Basic (its id and token). The search is
not paged: every matching employee comes back in one answer. Fields the
service user has no permission for are left out silently, with a 200, so an
unseen employment status stops the fetch instead of counting as active.
Departments and titles are named lists: the search returns list item ids,
resolved here to names through the company's named lists. The one answer
holds the whole company, so it is read as a stream, an employee at a time.
"""

import base64
import logging
from collections.abc import Iterator
from typing import Any

from directory.connectors.base import Connector, text
from directory.connectors.errors import ConnectorError, ConnectorResponseError
from directory.provisioning import Record

logger = logging.getLogger(__name__)

STATUS_HIDDEN = (
    "The HiBob service user cannot read the employment status, so terminated "
    "people cannot be told apart. Add it to a permission group that can see "
    "Lifecycle status."
)
SEARCH_MALFORMED = "HiBob's people search answer has no list of employees."
EMPLOYEE_WITHOUT_ID = "HiBob lists an employee without an id."

SEARCH_FIELDS = (
    "root.id",
    "root.firstName",
    "root.surname",
    "root.email",
    "work.department",
    "work.title",
    "work.reportsTo",
    "internal.status",
    "internal.terminationDate",
)
# Which company named list holds the values of a list-type field.
NAMED_LISTS = {"work.department": "department", "work.title": "title"}
_MISSING = object()


class HiBobConnector(Connector):
    provider = "hibob"
    label = "HiBob"
    default_base_url = "https://api.hibob.com"
    required_credentials = ("service_user_id", "token")

    def test(self) -> None:
        for employee in self._search(("root.id", "internal.status")):
            _status(employee)

    def fetch(self) -> Iterator[Record]:
        names = {field: self._named_list(name) for field, name in NAMED_LISTS.items()}
        for employee in self._search(SEARCH_FIELDS):
            yield _record(employee, names)

    def _headers(self) -> dict:
        pair = f"{self.credentials['service_user_id'].strip()}:"
        pair += self.credentials["token"].strip()
        return {
            "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
            "Accept": "application/json",
        }

    def _search(self, fields) -> Iterator[dict]:
        """Every employee the search answers, read from it one at a time."""
        return self.http.items(
            "POST",
            "/v1/people/search",
            "employees",
            malformed=SEARCH_MALFORMED,
            headers=self._headers(),
            json={"fields": list(fields), "showInactive": True},
        )

    def _named_list(self, name: str) -> dict[str, str]:
        """Item id to name for one named list; empty when it cannot be read."""
        try:
            body = self.http.json(
                "GET", f"/v1/company/named-lists/{name}", headers=self._headers()
            )
        except ConnectorError as exc:
            if exc.status not in (403, 404):
                raise
            # Without the list the raw value is kept: a department that
            # matches no team is flagged, which beats failing the sync.
            logger.warning("hibob named list unreadable: %s", exc.status)
            return {}
        names: dict[str, str] = {}
        stack = list(body.get("values") or []) if isinstance(body, dict) else []
        while stack:
            item = stack.pop()
            if not isinstance(item, dict):
                continue
            names[text(item.get("id"))] = text(item.get("name") or item.get("value"))
            stack.extend(item.get("children") or [])
        return names


def _value(employee: dict, path: str) -> Any:
    """A field by its id, in either shape HiBob answers with; `_MISSING` if left out.

    Root fields sit at the top level, other categories in nested objects, and
    any field may instead come under its slash path as `{"value": ...}`.
    """
    slash = employee.get("/" + path.replace(".", "/"))
    if isinstance(slash, dict) and "value" in slash:
        return slash["value"]
    category, _, name = path.partition(".")
    if category == "root" and name in employee:
        return employee[name]
    node = employee.get(category)
    if isinstance(node, dict) and name in node:
        return node[name]
    return _MISSING


def _status(employee: dict) -> str:
    status = _value(employee, "internal.status")
    if status is _MISSING:
        raise ConnectorResponseError(STATUS_HIDDEN, code="status_hidden")
    return text(status).lower()


def _named(employee: dict, path: str, names: dict[str, dict[str, str]]) -> str:
    value = _value(employee, path)
    if isinstance(value, dict):
        value = value.get("name") or value.get("value")
    raw = "" if value is _MISSING else text(value)
    return names.get(path, {}).get(raw, raw)


def _record(employee: dict, names: dict[str, dict[str, str]]) -> Record:
    employee_id = text(_value(employee, "root.id"))
    if not employee_id:
        raise ConnectorResponseError(EMPLOYEE_WITHOUT_ID, code="employee_without_id")
    email = _value(employee, "root.email")
    first_name = _value(employee, "root.firstName")
    last_name = _value(employee, "root.surname")
    manager = _value(employee, "work.reportsTo")
    manager_ref = ""
    if isinstance(manager, dict):
        manager_ref = text(manager.get("id")) or text(manager.get("email"))
    return Record(
        user_name=employee_id,
        external_id=employee_id,
        email="" if email is _MISSING else text(email),
        first_name="" if first_name is _MISSING else text(first_name),
        last_name="" if last_name is _MISSING else text(last_name),
        active=_status(employee) != "inactive",
        manager_ref=manager_ref,
        department=_named(employee, "work.department", names),
        title=_named(employee, "work.title", names),
        attributes=employee,
    )
