"""A fake Gusto API: OAuth 2 tokens that expire, and a paged employee list.

Behaves as the documented API does: `POST /oauth/token` exchanges a refresh
token (single-use: the old one stops working) for a new access and refresh
token pair; bearer tokens are checked on every call and answer 401 once
expired; `GET /v1/token_info` names the token's company; the employee list
pages with `page` and `per` (default 25, at most 100 here) and filters on
`terminated`. Knobs: expire the current access token after some number of
further API calls (a token that dies mid-sync).
"""

import itertools
import uuid as uuidlib

from tests.peers.hris.server import FakeProvider, FakeRequest, FakeResponse

MAX_PER = 100
DEFAULT_PER = 25


def employee(first_name, last_name, *, uuid=None, **fields):
    """An employee as Gusto returns one; keyword arguments override fields."""
    record = {
        "uuid": uuid or str(uuidlib.uuid4()),
        "first_name": first_name,
        "middle_initial": None,
        "last_name": last_name,
        "preferred_first_name": None,
        "email": f"{first_name.lower()}@home.example",
        "work_email": f"{first_name.lower()}@acme.example",
        "manager_uuid": None,
        "department": None,
        "department_uuid": None,
        "jobs": [],
        "terminated": False,
        "terminations": [],
        "onboarded": True,
        "current_employment_status": "full_time",
    }
    record.update(fields)
    return record


class FakeGusto(FakeProvider):
    def __init__(
        self,
        *,
        company_uuid="0e5ff1c8-5c54-4c8b-9d3b-6f3c2c7c8e10",
        client_id="gusto-client",
        client_secret="gusto-secret",  # noqa: S107 - the peer's own test secret
    ):
        super().__init__()
        self.company_uuid = company_uuid
        self.client_id = client_id
        self.client_secret = client_secret
        self.employees: list[dict] = []
        self._serial = itertools.count(1)
        # access token -> calls left before it expires (None: until revoked)
        self.access_tokens: dict[str, int | None] = {}
        self.refresh_tokens: set[str] = set()
        self.refreshes = 0
        # Calls a newly issued access token answers (None: until revoked).
        self.new_token_calls: int | None = None

    def issue(self) -> dict:
        """A fresh token pair, as after the admin's consent."""
        n = next(self._serial)
        access, refresh = f"access-{n}", f"refresh-{n}"
        self.access_tokens[access] = self.new_token_calls
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "refresh_token": refresh}

    def expire_tokens_after(self, calls: int):
        """Every live access token answers 401 after `calls` more API calls."""
        for token in self.access_tokens:
            self.access_tokens[token] = calls

    def add(self, *employees):
        self.employees.extend(employees)

    def get(self, uuid) -> dict:
        return next(e for e in self.employees if e["uuid"] == uuid)

    def is_listing(self, request):
        return request.path.endswith("/employees")

    def route(self, request: FakeRequest) -> FakeResponse:
        if request.path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if not self._authorised(request):
            return FakeResponse(
                401, {"errors": [{"category": "invalid_token", "message": "expired"}]}
            )
        if request.path == "/v1/token_info":
            return FakeResponse(
                200,
                {
                    "scope": "employees:read companies:read",
                    "resource": {"type": "Company", "uuid": self.company_uuid},
                    "resource_owner": {"type": "CompanyAdmin", "uuid": "owner-1"},
                },
            )
        if request.path.startswith("/v1/companies/") and request.path.endswith(
            "/employees"
        ):
            if request.path != f"/v1/companies/{self.company_uuid}/employees":
                return FakeResponse(403, {"errors": [{"category": "forbidden"}]})
            return self._employees(request)
        return FakeResponse(404, {"errors": [{"category": "not_found"}]})

    def _authorised(self, request) -> bool:
        token = request.bearer()
        if token not in self.access_tokens:
            return False
        left = self.access_tokens[token]
        if left is not None:
            if left <= 0:
                return False
            self.access_tokens[token] = left - 1
        return True

    def _token(self, request):
        form = request.form()
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return FakeResponse(401, {"error": "invalid_client"})
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") not in self.refresh_tokens
        ):
            return FakeResponse(400, {"error": "invalid_grant"})
        # Refresh tokens are single-use.
        self.refresh_tokens.discard(form["refresh_token"])
        self.refreshes += 1
        pair = self.issue()
        return FakeResponse(
            200, {**pair, "token_type": "bearer", "expires_in": 7200, "scope": ""}
        )

    def _employees(self, request):
        try:
            page = max(1, int(request.query.get("page", "1")))
            per = min(MAX_PER, max(1, int(request.query.get("per", DEFAULT_PER))))
        except ValueError:
            return FakeResponse(422, {"errors": [{"category": "invalid_attribute"}]})
        people = self.employees
        terminated = request.query.get("terminated")
        if terminated in {"true", "false"}:
            people = [p for p in people if p["terminated"] is (terminated == "true")]
        rows = people[(page - 1) * per : page * per]
        return FakeResponse(200, [self.visible(p) for p in rows])
