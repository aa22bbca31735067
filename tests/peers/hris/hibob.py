"""A fake HiBob API: the people search and the company's named lists.

Behaves as the documented API does: HTTP Basic with a service user id and
token; `POST /v1/people/search` answers every matching employee at once (no
pages), projects the requested `fields`, leaves out inactive people unless
`showInactive` is true, answers named-list item ids unless `humanReadable`
is `REPLACE`, and silently leaves out fields the service user may not see;
root fields sit at the top level and other categories in nested objects, or
every field under its slash path with `slash_paths`. The search allows a
number of calls per window (50 a minute by default) and then answers 429
without `Retry-After`, with `X-RateLimit-Reset` in epoch seconds.
"""

import math
import time

from tests.peers.hris.server import FakeProvider, FakeRequest, FakeResponse


def employee(employee_id, first_name, surname, *, email="", **fields):
    """An employee keyed by HiBob field id; keyword `a__b` sets field `a.b`."""
    record = {
        "root.id": str(employee_id),
        "root.firstName": first_name,
        "root.surname": surname,
        "root.displayName": f"{first_name} {surname}",
        "root.email": email or f"{first_name.lower()}@acme.example",
        "work.department": None,
        "work.title": None,
        "work.reportsTo": None,
        "internal.status": "Active",
        "internal.terminationDate": None,
    }
    record.update({k.replace("__", "."): v for k, v in fields.items()})
    return record


def reports_to(manager: dict) -> dict:
    return {
        "id": manager["root.id"],
        "email": manager["root.email"],
        "displayName": manager["root.displayName"],
    }


class FakeHiBob(FakeProvider):
    def __init__(
        self,
        *,
        service_user_id="SERVICE-42",
        token="bob-token",  # noqa: S107 - the peer's own test secret
    ):
        super().__init__()
        self.service_user_id = service_user_id
        self.token = token
        self.employees: list[dict] = []
        self.named_lists: dict[str, list[dict]] = {"department": [], "title": []}
        self.named_lists_forbidden = False
        self.slash_paths = False
        self.search_limit = 50
        self.window_seconds = 60
        self._window_start = time.time()
        self._window_calls = 0

    def add(self, *employees):
        self.employees.extend(employees)

    def get(self, employee_id) -> dict:
        return next(e for e in self.employees if e["root.id"] == str(employee_id))

    def list_item(self, list_name, item_id, name, *, parent=None):
        """Add an item to a named list, under `parent`'s children if given."""
        item = {"id": item_id, "value": name, "name": name, "archived": False}
        item["children"] = []
        if parent is None:
            self.named_lists[list_name].append(item)
        else:
            self._find(self.named_lists[list_name], parent)["children"].append(item)
        return item_id

    def is_listing(self, request):
        return request.path == "/v1/people/search"

    def route(self, request: FakeRequest) -> FakeResponse:
        if request.basic_auth() != (self.service_user_id, self.token):
            return FakeResponse(401, {"error": "Unauthorized"})
        if request.path == "/v1/people/search" and request.method == "POST":
            return self._search(request)
        prefix = "/v1/company/named-lists/"
        if request.path.startswith(prefix) and request.method == "GET":
            name = request.path[len(prefix) :]
            if self.named_lists_forbidden:
                return FakeResponse(403, {"error": "Forbidden"})
            if name not in self.named_lists:
                return FakeResponse(404, {"error": "Not found"})
            return FakeResponse(200, {"name": name, "values": self.named_lists[name]})
        return FakeResponse(404, {"error": "Not found"})

    def _rate_headers(self) -> tuple[bool, dict]:
        now = time.time()
        reset = math.ceil(self._window_start + self.window_seconds)
        if now >= reset:
            self._window_start, self._window_calls = now, 0
            reset = math.ceil(now + self.window_seconds)
        self._window_calls += 1
        allowed = self._window_calls <= self.search_limit
        headers = {
            "X-RateLimit-Limit": str(self.search_limit),
            "X-RateLimit-Remaining": str(
                max(0, self.search_limit - self._window_calls)
            ),
            "X-RateLimit-Reset": str(reset),
        }
        return allowed, headers

    def _search(self, request):
        allowed, headers = self._rate_headers()
        if not allowed:
            return FakeResponse(429, {"error": "Too Many Requests"}, headers)
        try:
            body = request.json() or {}
            fields = list(body.get("fields") or [])
        except (ValueError, AttributeError, TypeError):
            return FakeResponse(400, {"error": "Bad request"}, headers)
        people = self.employees
        if body.get("showInactive") is not True:
            people = [p for p in people if p["internal.status"] != "Inactive"]
        replace = body.get("humanReadable") == "REPLACE"
        rows = [self._render(p, fields, replace) for p in people]
        return FakeResponse(200, {"employees": rows}, headers)

    def _render(self, person, fields, replace) -> dict:
        wanted = fields or list(person)
        # Every employee carries its id, whatever was asked for.
        row: dict = {"id": person["root.id"]}
        for path in wanted:
            if path not in person or self._hidden(path):
                continue
            value = person[path]
            if replace and path in ("work.department", "work.title") and value:
                item = self._find(self.named_lists[path[5:]], value)
                value = item["name"] if item else value
            category, _, name = path.partition(".")
            if self.slash_paths:
                row["/" + path.replace(".", "/")] = {"value": value}
            elif category == "root":
                row[name] = value
            else:
                row.setdefault(category, {})[name] = value
        return row

    def _hidden(self, path) -> bool:
        return path in self.hidden_fields or path.split(".")[0] in self.hidden_fields

    def _find(self, items, item_id):
        for item in items:
            if item["id"] == item_id:
                return item
            found = self._find(item["children"], item_id)
            if found is not None:
                return found
        return None
