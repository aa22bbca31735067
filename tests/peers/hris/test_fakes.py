"""The fake HR providers answer as the documented APIs do, beyond what the
connectors happen to ask: the connector tests rely on them being faithful."""

import requests

from tests.peers.hris import bamboohr, google, gusto, hibob, workday


def test_bamboohr_directory_lists_active_people_only(bamboohr_fake):
    bamboohr_fake.add(
        bamboohr.employee(1, "Ada", "Lovelace"),
        bamboohr.employee(2, "Grace", "Hopper", status="Inactive"),
    )

    response = requests.get(
        f"{bamboohr_fake.url}/api/gateway.php/acme/v1/employees/directory",
        auth=(bamboohr_fake.api_key, "x"),
        headers={"Accept": "application/json"},
        timeout=5,
    )

    assert [e["id"] for e in response.json()["employees"]] == ["1"]


def test_bamboohr_answers_xml_unless_json_is_asked(bamboohr_fake):
    bamboohr_fake.add(bamboohr.employee(1, "Ada", "Lovelace"))

    response = requests.post(
        f"{bamboohr_fake.url}/api/gateway.php/acme/v1/reports/custom",
        auth=(bamboohr_fake.api_key, "x"),
        json={"fields": ["firstName"]},
        timeout=5,
    )

    assert response.headers["Content-Type"] == "text/xml"
    assert '<field id="firstName">Ada</field>' in response.text


def test_bamboohr_report_leaves_out_terminated_by_default(bamboohr_fake):
    bamboohr_fake.add(
        bamboohr.employee(1, "Ada", "Lovelace"),
        bamboohr.employee(2, "Grace", "Hopper", status="Inactive"),
    )

    response = requests.post(
        f"{bamboohr_fake.url}/api/gateway.php/acme/v1/reports/custom?format=JSON",
        auth=(bamboohr_fake.api_key, "x"),
        json={"fields": ["status"]},
        timeout=5,
    )

    assert response.json()["employees"] == [{"id": "1", "status": "Active"}]


def test_gusto_filters_terminated_and_clamps_page_size(gusto_fake):
    gusto_fake.add(
        *[gusto.employee(f"P{i}", "Person") for i in range(120)],
        gusto.employee("Ada", "Lovelace", terminated=True),
    )
    token = gusto_fake.issue()["access_token"]
    url = f"{gusto_fake.url}/v1/companies/{gusto_fake.company_uuid}/employees"
    headers = {"Authorization": f"Bearer {token}"}

    big_page = requests.get(url, params={"per": 500}, headers=headers, timeout=5)
    default = requests.get(url, headers=headers, timeout=5)
    terminated = requests.get(
        url, params={"terminated": "true"}, headers=headers, timeout=5
    )

    assert len(big_page.json()) == gusto.MAX_PER
    assert len(default.json()) == gusto.DEFAULT_PER
    assert [e["first_name"] for e in terminated.json()] == ["Ada"]


def test_gusto_refresh_token_is_single_use(gusto_fake):
    pair = gusto_fake.issue()
    form = {
        "grant_type": "refresh_token",
        "client_id": gusto_fake.client_id,
        "client_secret": gusto_fake.client_secret,
        "refresh_token": pair["refresh_token"],
    }

    first = requests.post(f"{gusto_fake.url}/oauth/token", data=form, timeout=5)
    second = requests.post(f"{gusto_fake.url}/oauth/token", data=form, timeout=5)

    assert first.status_code == 200
    assert first.json()["expires_in"] == 7200
    assert (second.status_code, second.json()) == (400, {"error": "invalid_grant"})


def test_hibob_hides_inactive_people_and_can_name_list_values(hibob_fake):
    hibob_fake.list_item("department", "101", "Engineering")
    hibob_fake.add(
        hibob.employee(1, "Ada", "Lovelace", work__department="101"),
        hibob.employee(2, "Grace", "Hopper", internal__status="Inactive"),
    )

    response = requests.post(
        f"{hibob_fake.url}/v1/people/search",
        auth=(hibob_fake.service_user_id, hibob_fake.token),
        json={"fields": ["work.department"], "humanReadable": "REPLACE"},
        timeout=5,
    )

    assert response.json() == {
        "employees": [{"id": "1", "work": {"department": "Engineering"}}]
    }
    assert response.headers["X-RateLimit-Limit"] == "50"


def test_hibob_search_over_limit_is_429_without_retry_after(hibob_fake):
    hibob_fake.search_limit = 1
    auth = (hibob_fake.service_user_id, hibob_fake.token)
    url = f"{hibob_fake.url}/v1/people/search"

    requests.post(url, auth=auth, json={}, timeout=5)
    limited = requests.post(url, auth=auth, json={}, timeout=5)

    assert limited.status_code == 429
    assert "Retry-After" not in limited.headers
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_workday_answers_xml_unless_json_is_asked(workday_fake):
    workday_fake.add(workday.worker("21001", "Ada", "Lovelace"))

    response = requests.get(
        workday_fake.report_url.replace("?format=json", ""),
        auth=(workday_fake.username, workday_fake.password),
        timeout=5,
    )

    assert "<wd:Employee_ID>21001</wd:Employee_ID>" in response.text


def test_workday_leaves_out_empty_values(workday_fake):
    workday_fake.add(workday.worker("21001", "Ada", "Lovelace", title=""))

    response = requests.get(
        workday_fake.report_url,
        auth=(workday_fake.username, workday_fake.password),
        timeout=5,
    )

    assert "Business_Title" not in response.json()["Report_Entry"][0]


def _google(fake, path, **params):
    token = _google_token(fake)
    return requests.get(
        f"{fake.url}/admin/directory/v1/{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def _google_token(fake):
    form = {"grant_type": "refresh_token", **fake.oauth_client()}
    return requests.post(fake.token_url, data=form, timeout=5).json()["access_token"]


def test_google_users_need_a_customer(google_fake):
    response = _google(google_fake, "users")

    assert response.status_code == 400


def test_google_page_size_is_clamped_and_tokens_are_opaque(google_fake):
    google_fake.add_users(*[google.user(f"{i}", f"P{i}", "X") for i in range(600)])

    first = _google(google_fake, "users", customer="my_customer", maxResults=900)
    forged = _google(
        google_fake, "users", customer="my_customer", pageToken="dXNlcnM6MDox"
    )

    assert len(first.json()["users"]) == 500
    assert first.json()["nextPageToken"]
    assert forged.status_code == 400


def test_google_nested_groups_flatten_only_when_asked(google_fake):
    google_fake.add_users(google.user("1", "Ada", "L"), google.user("2", "Grace", "H"))
    google_fake.add_group("inner", "inner@acme.example", "Inner", [("USER", "2")])
    google_fake.add_group(
        "outer", "outer@acme.example", "Outer", [("USER", "1"), ("GROUP", "inner")]
    )

    direct = _google(google_fake, "groups/outer@acme.example/members")
    derived = _google(
        google_fake, "groups/outer/members", includeDerivedMembership="true"
    )

    assert [(m["type"], m["id"]) for m in direct.json()["members"]] == [
        ("USER", "1"),
        ("GROUP", "inner"),
    ]
    assert [(m["type"], m["id"]) for m in derived.json()["members"]] == [
        ("USER", "1"),
        ("USER", "2"),
    ]


def test_google_bad_bearer_is_401(google_fake):
    response = requests.get(
        f"{google_fake.url}/admin/directory/v1/users",
        params={"customer": "my_customer"},
        headers={"Authorization": "Bearer forged"},
        timeout=5,
    )

    assert response.status_code == 401
    assert response.json()["error"]["errors"][0]["reason"] == "authError"
