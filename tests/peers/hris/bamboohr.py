"""A fake BambooHR API: one company, its employees, reports and directory.

Behaves as the documented API does: HTTP Basic with the API key as the user
name (any password), 404 for an unknown company domain, XML unless JSON is
asked for, the employee directory listing active people only, the custom
report honouring `fields` and `onlyCurrent` (terminated people only with
`onlyCurrent=false`), empty dates as `0000-00-00`, and throttling as 503
with `Retry-After`.
"""

from xml.sax.saxutils import escape

from tests.peers.hris.server import FakeProvider, FakeRequest, FakeResponse

EMPTY_DATE = "0000-00-00"
FIELD_TYPES = {"hireDate": "date", "terminationDate": "date", "workEmail": "email"}


def employee(employee_id, first_name, last_name, email="", **fields):
    """An employee as BambooHR stores one; keyword arguments override fields."""
    record = {
        "id": str(employee_id),
        "firstName": first_name,
        "lastName": last_name,
        "preferredName": None,
        "workEmail": email or f"{first_name.lower()}@acme.example",
        "supervisorEId": None,
        "supervisorEmail": None,
        "department": None,
        "jobTitle": None,
        "status": "Active",
        "hireDate": "2020-01-06",
        "terminationDate": EMPTY_DATE,
    }
    record.update(fields)
    return record


class FakeBambooHR(FakeProvider):
    def __init__(self, *, subdomain="acme", api_key="bamboo-key"):
        super().__init__()
        self.subdomain = subdomain
        self.api_key = api_key
        self.employees: list[dict] = []

    def add(self, *employees):
        self.employees.extend(employees)

    def get(self, employee_id) -> dict:
        return next(e for e in self.employees if e["id"] == str(employee_id))

    def is_listing(self, request):
        return request.path.endswith("/reports/custom")

    def route(self, request: FakeRequest) -> FakeResponse:
        prefix = f"/api/gateway.php/{self.subdomain}/v1/"
        if not request.path.startswith("/api/gateway.php/"):
            return FakeResponse(404, "Not found", content_type="text/plain")
        auth = request.basic_auth()
        if auth is None or auth[0] != self.api_key:
            return FakeResponse(401, "", {"WWW-Authenticate": 'Basic realm="api"'})
        if not request.path.startswith(prefix):
            return FakeResponse(404, "Company not found", content_type="text/plain")
        tail = request.path[len(prefix) :]
        if tail == "employees/directory" and request.method == "GET":
            return self._directory(request)
        if tail == "reports/custom" and request.method == "POST":
            return self._report(request)
        return FakeResponse(404, "Not found", content_type="text/plain")

    def _directory(self, request):
        active = [self.visible(e) for e in self.employees if e["status"] == "Active"]
        fields = (
            [{"id": k, "type": "text", "name": k} for k in active[0]] if active else []
        )
        if "application/json" not in request.headers.get("accept", ""):
            return _xml(active)
        return FakeResponse(200, {"fields": fields, "employees": active})

    def _report(self, request):
        try:
            body = request.json()
            wanted = list(body["fields"])
        except (ValueError, KeyError, TypeError):
            return FakeResponse(400, "Bad request", content_type="text/plain")
        only_current = request.query.get("onlyCurrent", "true") != "false"
        people = [
            e for e in self.employees if not only_current or e["status"] == "Active"
        ]
        shown = ["id"] + [
            f for f in wanted if f != "id" and f not in self.hidden_fields
        ]
        rows = [{f: person.get(f) for f in shown} for person in people]
        if request.query.get("format", "").upper() != "JSON":
            return _xml(rows)
        fields = [
            {"id": f, "type": FIELD_TYPES.get(f, "text"), "name": f} for f in shown
        ]
        return FakeResponse(
            200, {"title": body.get("title", ""), "fields": fields, "employees": rows}
        )


def _xml(rows) -> FakeResponse:
    parts = ["<report><employees>"]
    for row in rows:
        parts.append(f'<employee id="{escape(str(row.get("id")))}">')
        for name, value in row.items():
            parts.append(f'<field id="{name}">{escape(str(value or ""))}</field>')
        parts.append("</employee>")
    parts.append("</employees></report>")
    return FakeResponse(200, "".join(parts), content_type="text/xml")
