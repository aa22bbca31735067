"""BambooHR: one custom report of every employee, terminated people included.

The employee directory endpoint lists active people only (and a company can
switch it off), so terminations would go unseen; the connector runs a custom
report with `onlyCurrent=false` instead. Authentication is HTTP Basic with the
API key as the user name and any password. The report is not paged: it comes
back whole, in one answer.
"""

import base64
import re
from collections.abc import Iterator
from datetime import date

from django.utils import timezone

from directory.connectors.base import Connector, parse_date, text
from directory.connectors.errors import ConnectorConfigError, ConnectorResponseError
from directory.provisioning import Record

SUBDOMAIN_INVALID = (
    "The BambooHR subdomain is the part before .bamboohr.com: letters, digits "
    "and hyphens."
)
STATUS_HIDDEN = (
    "The BambooHR API key cannot read the employment status, so terminated "
    "people cannot be told apart. Give its user access to the Status field."
)
REPORT_MALFORMED = "BambooHR's report answer has no list of employees."
EMPLOYEE_WITHOUT_ID = "BambooHR's report lists an employee without an id."

REPORT_TITLE = "Progression directory sync"
REPORT_FIELDS = (
    "id",
    "firstName",
    "lastName",
    "preferredName",
    "workEmail",
    "supervisorEId",
    "supervisorEmail",
    "department",
    "jobTitle",
    "status",
    "hireDate",
    "terminationDate",
)
_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class BambooHRConnector(Connector):
    provider = "bamboohr"
    label = "BambooHR"
    default_base_url = "https://api.bamboohr.com"
    required_credentials = ("subdomain", "api_key")

    def check_credentials(self) -> None:
        super().check_credentials()
        subdomain = self.credentials["subdomain"].strip().lower()
        subdomain = subdomain.removeprefix("https://").split(".bamboohr.com")[0]
        if not _SUBDOMAIN.match(subdomain):
            raise ConnectorConfigError(SUBDOMAIN_INVALID, code="subdomain_invalid")
        self.subdomain = subdomain

    def test(self) -> None:
        for employee in self._report(("id", "status")):
            _status(employee)

    def fetch(self) -> Iterator[Record]:
        today = timezone.now().date()
        for employee in self._report(REPORT_FIELDS):
            yield _record(employee, today)

    def _report(self, fields) -> Iterator[dict]:
        """The report's employees, read from the one answer one at a time."""
        key = self.credentials["api_key"].strip()
        token = base64.b64encode(f"{key}:x".encode()).decode()
        return self.http.items(
            "POST",
            f"/api/gateway.php/{self.subdomain}/v1/reports/custom",
            "employees",
            malformed=REPORT_MALFORMED,
            params={"format": "JSON", "onlyCurrent": "false"},
            headers={"Authorization": f"Basic {token}", "Accept": "application/json"},
            json={"title": REPORT_TITLE, "fields": list(fields)},
        )


def _status(employee: dict) -> str:
    # A key without access to the field gets the employees without it; an
    # unseen status must stop the fetch rather than count as active.
    if "status" not in employee:
        raise ConnectorResponseError(STATUS_HIDDEN, code="status_hidden")
    return text(employee["status"]).lower()


def _record(employee: dict, today: date) -> Record:
    employee_id = text(employee.get("id"))
    if not employee_id:
        raise ConnectorResponseError(EMPLOYEE_WITHOUT_ID, code="employee_without_id")
    return Record(
        user_name=employee_id,
        external_id=employee_id,
        email=text(employee.get("workEmail")),
        first_name=text(employee.get("firstName")),
        last_name=text(employee.get("lastName")),
        active=_active(employee, today),
        manager_ref=text(employee.get("supervisorEId"))
        or text(employee.get("supervisorEmail")),
        department=text(employee.get("department")),
        title=text(employee.get("jobTitle")),
        attributes=employee,
    )


def _active(employee: dict, today: date) -> bool:
    """Inactive status, or a termination on or before today not followed by a hire."""
    if _status(employee) == "inactive":
        return False
    terminated_on = parse_date(employee.get("terminationDate"))
    if terminated_on is None or terminated_on > today:
        return True
    hired_on = parse_date(employee.get("hireDate"))
    return hired_on is not None and hired_on > terminated_on
