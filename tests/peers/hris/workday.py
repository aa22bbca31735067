"""A fake Workday tenant serving one custom report as a web service (RaaS).

Behaves as the documented service does: `GET
/ccx/service/customreport2/{tenant}/{owner}/{report}` with HTTP Basic as the
integration system user; JSON with `format=json`, XML otherwise; the whole
report at once as `{"Report_Entry": [...]}` with the report author's column
aliases; empty values left out; columns the user lacks access to left out
(`hidden_fields`, by column alias); an unknown report answers 404.
"""

from xml.sax.saxutils import escape

from tests.peers.hris.server import FakeProvider, FakeRequest, FakeResponse

# Our field -> the column alias this report's author chose.
COLUMNS = {
    "external_id": "Employee_ID",
    "first_name": "Legal_Name_First_Name",
    "last_name": "Legal_Name_Last_Name",
    "email": "Email_Address",
    "manager_id": "Manager_ID",
    "department": "Supervisory_Organization",
    "title": "Business_Title",
    "active": "Active_Status",
}


def worker(worker_id, first_name, last_name, **fields):
    """A worker by our field names; the fake renders them under the aliases."""
    record = {
        "external_id": str(worker_id),
        "first_name": first_name,
        "last_name": last_name,
        "email": f"{first_name.lower()}@acme.example",
        "active": "1",
    }
    record.update(fields)
    return record


class FakeWorkday(FakeProvider):
    def __init__(
        self,
        *,
        tenant="acme_impl",
        owner="ISU_Progression",
        report="Progression_Workers",
        username="ISU_Progression",
        password="isu-password",  # noqa: S107 - the peer's own test secret
    ):
        super().__init__()
        self.tenant, self.owner, self.report = tenant, owner, report
        self.username, self.password = username, password
        self.columns = dict(COLUMNS)
        self.workers: list[dict] = []

    @property
    def report_url(self) -> str:
        path = f"/ccx/service/customreport2/{self.tenant}/{self.owner}/{self.report}"
        return f"{self.url}{path}?format=json"

    def add(self, *workers):
        self.workers.extend(workers)

    def get(self, worker_id) -> dict:
        return next(w for w in self.workers if w["external_id"] == str(worker_id))

    def is_listing(self, request):
        return request.path.startswith("/ccx/service/customreport2/")

    def route(self, request: FakeRequest) -> FakeResponse:
        if request.basic_auth() != (self.username, self.password):
            return FakeResponse(
                401,
                "<error>Invalid username or password</error>",
                content_type="text/xml",
            )
        path = f"/ccx/service/customreport2/{self.tenant}/{self.owner}/{self.report}"
        if request.path != path or request.method != "GET":
            return FakeResponse(
                404, "<error>Not found</error>", content_type="text/xml"
            )
        rows = [self._render(w) for w in self.workers]
        if request.query.get("format") != "json":
            return _xml(rows)
        return FakeResponse(200, {"Report_Entry": rows})

    def _render(self, worker) -> dict:
        row = {}
        for field, value in worker.items():
            alias = self.columns.get(field, field)
            if value in (None, "", []) or alias in self.hidden_fields:
                continue
            row[alias] = value
        return row


def _xml(rows) -> FakeResponse:
    parts = ['<wd:Report_Data xmlns:wd="urn:com.workday.report/Progression">']
    for row in rows:
        parts.append("<wd:Report_Entry>")
        for name, value in row.items():
            parts.append(f"<wd:{name}>{escape(str(value))}</wd:{name}>")
        parts.append("</wd:Report_Entry>")
    parts.append("</wd:Report_Data>")
    return FakeResponse(200, "".join(parts), content_type="text/xml")
