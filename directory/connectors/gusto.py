"""Gusto: the company's employees page by page, with expiring OAuth 2 tokens.

Access tokens live two hours and refresh tokens are single-use, so a refresh
can happen in the middle of a sync (on a 401) and the new pair is handed to
`credentials_update` at once, before the fetch goes on. Without a
`terminated` filter the employee list holds current and terminated people.
"""

import re
from collections.abc import Iterator
from datetime import date

from django.utils import timezone

from directory.connectors.base import Connector, parse_date, pick, text
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorResponseError,
)
from directory.provisioning import Record

REFRESH_REFUSED = (
    "Gusto refused the refresh token. Connect Gusto again to issue a new one."
)
GRANT_MALFORMED = "Gusto's token answer has no access token."
COMPANY_MISMATCH = "The Gusto token gives access to another company than %s."
PAGE_MALFORMED = "Gusto's employee page is not a list of employees."
EMPLOYEE_WITHOUT_UUID = "Gusto lists an employee without a uuid."
STATUS_HIDDEN = (
    "The Gusto token cannot read whether employees are terminated. Grant the "
    "application the employees:read scope."
)

COMPANY_UUID_INVALID = "The Gusto company uuid is not a uuid."

PER_PAGE = 100
ATTRIBUTES = (
    "uuid",
    "first_name",
    "last_name",
    "preferred_first_name",
    "work_email",
    "email",
    "manager_uuid",
    "department",
    "department_uuid",
    "title",
    "terminated",
    "terminations",
    "current_employment_status",
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


class GustoConnector(Connector):
    provider = "gusto"
    label = "Gusto"
    default_base_url = "https://api.gusto.com"
    required_credentials = (
        "company_uuid",
        "client_id",
        "client_secret",
        "refresh_token",
    )

    def check_credentials(self) -> None:
        super().check_credentials()
        if not _UUID.match(self.credentials["company_uuid"].strip()):
            raise ConnectorConfigError(
                COMPANY_UUID_INVALID, code="company_uuid_invalid"
            )

    def test(self) -> None:
        info = self._get("/v1/token_info")
        resource = info.get("resource") if isinstance(info, dict) else None
        uuid = text(resource.get("uuid")) if isinstance(resource, dict) else ""
        company = self.credentials["company_uuid"].strip()
        if uuid != company:
            raise ConnectorConfigError(
                COMPANY_MISMATCH % company, code="company_mismatch"
            )

    def fetch(self) -> Iterator[Record]:
        today = timezone.now().date()
        path = f"/v1/companies/{self.credentials['company_uuid'].strip()}/employees"
        page = 1
        while True:
            rows = self._get(path, {"page": page, "per": PER_PAGE})
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ConnectorResponseError(PAGE_MALFORMED, code="page_malformed")
            for row in rows:
                yield _record(row, today)
            # Gusto has no next-page marker: a short page is the last one.
            if len(rows) < PER_PAGE:
                return
            page += 1

    def _get(self, path: str, params: dict | None = None):
        if not self.credentials.get("access_token"):
            self._refresh()
        try:
            return self.http.json("GET", path, params=params, headers=self._headers())
        except ConnectorAuthError as exc:
            if exc.status != 401:
                raise
        # The access token expired (they live two hours): refresh once and
        # ask again; a second refusal is the provider's final word.
        self._refresh()
        return self.http.json("GET", path, params=params, headers=self._headers())

    def _headers(self) -> dict:
        return {
            "Authorization": f"Bearer {self.credentials['access_token']}",
            "Accept": "application/json",
        }

    def _refresh(self) -> None:
        try:
            body = self.http.json(
                "POST",
                "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.credentials["client_id"].strip(),
                    "client_secret": self.credentials["client_secret"].strip(),
                    "refresh_token": self.credentials["refresh_token"].strip(),
                },
                headers={"Accept": "application/json"},
                repeatable=False,
            )
        except (ConnectorAuthError, ConnectorResponseError) as exc:
            if isinstance(exc, ConnectorResponseError) and exc.status != 400:
                raise
            raise ConnectorAuthError(
                REFRESH_REFUSED, code="refresh_refused", status=exc.status
            ) from exc
        access_token = text(body.get("access_token")) if isinstance(body, dict) else ""
        if not access_token:
            raise ConnectorResponseError(GRANT_MALFORMED, code="token_malformed")
        self.credentials_update(
            access_token=access_token,
            refresh_token=text(body.get("refresh_token"))
            or self.credentials["refresh_token"],
        )


def _record(row: dict, today: date) -> Record:
    uuid = text(row.get("uuid"))
    if not uuid:
        raise ConnectorResponseError(EMPLOYEE_WITHOUT_UUID, code="employee_without_id")
    return Record(
        user_name=uuid,
        external_id=uuid,
        email=text(row.get("work_email")) or text(row.get("email")),
        first_name=text(row.get("first_name")),
        last_name=text(row.get("last_name")),
        active=_active(row, today),
        manager_ref=text(row.get("manager_uuid")),
        department=text(row.get("department")),
        title=_title(row),
        attributes={
            **pick(row, ATTRIBUTES),
            # Jobs carry pay rates, which are nobody's business here.
            "jobs": [
                pick(job, ("uuid", "title", "primary", "hire_date"))
                for job in row.get("jobs") or []
                if isinstance(job, dict)
            ],
        },
    )


def _active(row: dict, today: date) -> bool:
    """Not terminated, or terminated only from a date still ahead."""
    if "terminated" not in row:
        raise ConnectorResponseError(STATUS_HIDDEN, code="status_hidden")
    if row["terminated"] is not True:
        return True
    terminations = [t for t in row.get("terminations") or [] if isinstance(t, dict)]
    dates = [
        parse_date(t.get("effective_date"))
        for t in terminations
        if t.get("active", True)
    ]
    dates = [d for d in dates if d is not None]
    return bool(dates) and all(d > today for d in dates)


def _title(row: dict) -> str:
    jobs = [j for j in row.get("jobs") or [] if isinstance(j, dict)]
    primary = next((j for j in jobs if j.get("primary")), jobs[0] if jobs else None)
    if primary is not None and text(primary.get("title")):
        return text(primary.get("title"))
    return text(row.get("title"))
