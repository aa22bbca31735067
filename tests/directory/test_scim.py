import json

import pytest
from django.core import mail

from billing.entitlements import NO_SUBSCRIPTION_MESSAGE
from billing.services.subscriptions import subscription_set
from directory.links_queue import links_forget, pending_store
from directory.models import DirectoryRequest, DirectoryUser
from directory.provisioning import EMAIL_TAKEN, REASON_INACTIVE, USER_NAME_TAKEN
from directory.scim.errors import DIRECTORY_INACTIVE, NOT_FOUND, UNAUTHORIZED
from directory.services import directory_create, directory_state_set
from progression.models import AuditEvent, User
from tests.directory.conftest import ScimClient, user_body
from tests.factories import OrganizationFactory, UserFactory

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def created(scim, user_name="ada@acme.example", **extra):
    response = scim.post("/Users", user_body(user_name, **extra))
    assert response.status_code == 201, response.content
    return response.json()


def person(user_name="ada@acme.example"):
    return DirectoryUser.objects.get(user_name=user_name).user


def test_create_user_active_person_created_without_email(scim):
    response = scim.post("/Users", user_body(password="hunter2-from-okta"))

    assert response.status_code == 201
    assert response["Content-Type"] == "application/scim+json"
    body = response.json()
    assert response["Location"] == body["meta"]["location"]
    user = User.objects.get(email="ada@acme.example")
    assert user.source == User.Source.DIRECTORY
    assert user.first_name == "Ada"
    assert user.organization == scim.directory.organization
    assert user.has_usable_password() is False
    assert "password" not in DirectoryUser.objects.get().attributes
    assert "password" not in body
    assert mail.outbox == []


def test_create_user_same_user_name_other_case_is_409(scim):
    created(scim)

    response = scim.post("/Users", user_body("ADA@ACME.EXAMPLE"))

    assert response.status_code == 409
    assert response.json() == {
        "schemas": [ERROR],
        "status": "409",
        "scimType": "uniqueness",
        "detail": USER_NAME_TAKEN,
    }
    assert DirectoryUser.objects.count() == 1


def test_create_user_taken_user_name_new_email_is_409_and_nothing_stored(scim):
    created(scim)
    people, events = User.objects.count(), AuditEvent.objects.count()

    response = scim.post(
        "/Users",
        user_body(
            "ADA@ACME.EXAMPLE",
            emails=[{"primary": True, "value": "other@acme.example"}],
        ),
    )

    assert response.status_code == 409
    assert response.json()["detail"] == USER_NAME_TAKEN
    assert (User.objects.count(), AuditEvent.objects.count()) == (people, events)
    assert not User.objects.filter(email="other@acme.example").exists()
    assert DirectoryUser.objects.count() == 1
    assert DirectoryRequest.objects.order_by("-id").first().status == 409


@pytest.mark.django_db(transaction=True)
def test_create_user_new_person_after_lookup_is_one_statement(
    scim, django_assert_num_queries
):
    # Outside a test's transaction, as in production, and with a link run
    # already queued, as during a burst: the directory lookup, then person,
    # audit event, directory user and request log together.
    organization_id = scim.directory.organization_id
    pending_store().mark_queued(organization_id)
    try:
        with django_assert_num_queries(2):
            response = scim.post("/Users", user_body())
    finally:
        links_forget(organization_id=organization_id)

    assert response.status_code == 201
    directory_user = DirectoryUser.objects.get()
    assert response.json()["id"] == str(directory_user.scim_id)
    event = AuditEvent.objects.get(action="user.created")
    assert event.target_id == str(directory_user.user_id)
    assert event.actor_label == scim.directory.actor_label
    entry = DirectoryRequest.objects.get()
    assert (entry.method, entry.status) == ("POST", 201)
    assert entry.summary == "Users attributes active,emails,name,userName"


def test_create_user_email_of_other_organization_is_409_and_nothing_stored(scim):
    UserFactory(organization=OrganizationFactory(), email="ada@acme.example")

    response = scim.post("/Users", user_body())

    assert response.status_code == 409
    assert response.json()["detail"] == EMAIL_TAKEN
    assert DirectoryUser.objects.count() == 0


def test_create_user_email_of_active_colleague_is_409_not_merged(scim):
    manual = UserFactory(
        organization=scim.directory.organization, email="ada@acme.example"
    )

    response = scim.post("/Users", user_body())

    assert response.status_code == 409
    assert DirectoryUser.objects.count() == 0
    manual.refresh_from_db()
    assert manual.source == User.Source.MANUAL


def test_create_user_without_user_name_is_400_invalid_value(scim):
    response = scim.post("/Users", {"schemas": [], "name": {"givenName": "A"}})

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"


def test_create_user_malformed_json_is_400_invalid_syntax(scim):
    response = scim.client.post(
        scim.base + "/Users",
        "{not json",
        content_type="application/scim+json",
        HTTP_AUTHORIZATION=f"Bearer {scim.token}",
    )

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidSyntax"


@pytest.mark.parametrize("value", ["False", "false", False])
def test_patch_active_false_in_any_form_archives(scim, value):
    user_id = created(scim)["id"]

    response = scim.patch(
        f"/Users/{user_id}",
        patch({"op": "Replace", "path": "active", "value": value}),
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert person().status == User.Status.ARCHIVED
    assert person().archived_reason == REASON_INACTIVE


def test_patch_active_true_reactivates_same_account(scim):
    user_id = created(scim)["id"]
    original = person()
    scim.patch(
        f"/Users/{user_id}", patch({"op": "replace", "value": {"active": False}})
    )

    scim.patch(
        f"/Users/{user_id}", patch({"op": "Replace", "path": "active", "value": "True"})
    )

    assert person().pk == original.pk
    assert person().status == User.Status.ACTIVE


def test_patch_active_not_a_boolean_is_400_and_nothing_changes(scim):
    user_id = created(scim)["id"]

    response = scim.patch(
        f"/Users/{user_id}",
        patch({"op": "replace", "path": "active", "value": "maybe"}),
    )

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert person().status == User.Status.ACTIVE


def test_patch_work_email_value_path_changes_email_same_person(scim):
    user_id = created(scim)["id"]
    original = person()

    response = scim.patch(
        f"/Users/{user_id}",
        patch(
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "ada.king@acme.example",
            }
        ),
    )

    assert response.status_code == 200
    assert person().pk == original.pk
    assert person().email == "ada.king@acme.example"


def test_patch_work_email_add_when_missing_creates_it(scim):
    response = scim.post("/Users", {"userName": "ada", "name": {"givenName": "Ada"}})
    user_id = response.json()["id"]
    assert DirectoryUser.objects.get().user is None

    scim.patch(
        f"/Users/{user_id}",
        patch(
            {
                "op": "Add",
                "path": 'emails[type eq "work"].value',
                "value": "a@acme.example",
            }
        ),
    )

    assert DirectoryUser.objects.get().user.email == "a@acme.example"


def test_patch_email_taken_by_colleague_is_409_and_nothing_changes(scim):
    user_id = created(scim)["id"]
    UserFactory(organization=scim.directory.organization, email="taken@acme.example")

    response = scim.patch(
        f"/Users/{user_id}",
        patch(
            {
                "op": "replace",
                "path": 'emails[type eq "work"].value',
                "value": "taken@acme.example",
            }
        ),
    )

    assert response.status_code == 409
    assert response.json()["scimType"] == "uniqueness"
    assert person().email == "ada@acme.example"
    assert DirectoryUser.objects.get().email == "ada@acme.example"


def test_patch_enterprise_paths_store_raw_department_manager_title(scim):
    user_id = created(scim)["id"]

    scim.patch(
        f"/Users/{user_id}",
        patch(
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Research"},
            {
                "op": "Replace",
                "path": f"{ENTERPRISE}:manager",
                "value": "7f4b-manager-id",
            },
            {"op": "Add", "path": "title", "value": "Analyst"},
        ),
    )

    record = DirectoryUser.objects.get()
    assert (record.department, record.manager_ref, record.title) == (
        "Research",
        "7f4b-manager-id",
        "Analyst",
    )
    assert record.attributes[ENTERPRISE]["manager"] == {"value": "7f4b-manager-id"}


def test_patch_pathless_dotted_keys_update_names(scim):
    user_id = created(scim)["id"]

    scim.patch(
        f"/Users/{user_id}",
        patch(
            {
                "op": "replace",
                "value": {
                    "displayName": "Ada King",
                    "name.givenName": "Augusta",
                    "name.familyName": "King",
                    f"{ENTERPRISE}:employeeNumber": "42",
                },
            }
        ),
    )

    user = person()
    assert (user.first_name, user.last_name) == ("Augusta", "King")
    assert DirectoryUser.objects.get().attributes[ENTERPRISE]["employeeNumber"] == "42"


def test_patch_remove_without_path_is_400_no_target(scim):
    user_id = created(scim)["id"]

    response = scim.patch(f"/Users/{user_id}", patch({"op": "remove"}))

    assert response.status_code == 400
    assert response.json()["scimType"] == "noTarget"


def test_patch_unknown_path_is_400_and_earlier_operations_not_applied(scim):
    user_id = created(scim)["id"]

    response = scim.patch(
        f"/Users/{user_id}",
        patch(
            {"op": "replace", "path": "name.givenName", "value": "Changed"},
            {"op": "replace", "path": "shoeSize", "value": "9"},
        ),
    )

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidPath"
    assert person().first_name == "Ada"


def test_put_replaces_profile_and_ignores_password(scim):
    user_id = created(scim)["id"]
    body = user_body("ada@acme.example", password="x")
    body["name"] = {"givenName": "Ada", "familyName": "King"}
    body["title"] = "Countess"

    response = scim.put(f"/Users/{user_id}", body)

    assert response.status_code == 200
    assert person().last_name == "King"
    assert DirectoryUser.objects.get().title == "Countess"
    assert person().has_usable_password() is False


def test_delete_archives_person_and_later_get_is_404(scim):
    user_id = created(scim)["id"]

    response = scim.delete(f"/Users/{user_id}")

    assert response.status_code == 204
    assert scim.get(f"/Users/{user_id}").status_code == 404
    user = User.objects.get(email="ada@acme.example")
    assert user.status == User.Status.ARCHIVED


def test_get_unknown_user_is_404_scim_error(scim):
    response = scim.get("/Users/00919288221112222")

    assert response.status_code == 404
    assert response.json() == {"schemas": [ERROR], "status": "404", "detail": NOT_FOUND}


def test_filter_user_name_probe_returns_empty_list_response(scim):
    response = scim.get("/Users", filter='userName eq "random-probe-7c1e"')

    assert response.status_code == 200
    assert response.json() == {
        "schemas": [LIST],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


@pytest.mark.parametrize(
    "expression",
    [
        'userName eq "ADA@ACME.EXAMPLE"',
        'externalId eq "ext-1"',
        'emails[type eq "work"].value eq "ada@acme.example"',
        'emails.value eq "Ada@acme.example"',
        'userName sw "ada" and active eq true',
        'not (userName eq "bob@acme.example")',
        'name.familyName co "love"',
    ],
)
def test_filter_forms_find_the_user(scim, expression):
    created(scim, externalId="ext-1")
    created(
        scim,
        "bob@acme.example",
        externalId="ext-2",
        name={"givenName": "Bob", "familyName": "Babbage"},
    )

    response = scim.get("/Users", filter=expression)

    body = response.json()
    assert response.status_code == 200
    assert body["totalResults"] == 1
    assert body["Resources"][0]["userName"] == "ada@acme.example"


def test_filter_by_id(scim):
    user_id = created(scim)["id"]
    created(scim, "bob@acme.example")

    body = scim.get("/Users", filter=f'id eq "{user_id}"').json()

    assert [r["id"] for r in body["Resources"]] == [user_id]


@pytest.mark.parametrize(
    "expression", ["ADA@ACME.EXAMPLE", 'shoeSize eq "9"', 'userName eq "a" and']
)
def test_filter_invalid_is_400_invalid_filter(scim, expression):
    response = scim.get("/Users", filter=expression)

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidFilter"


def test_list_pages_are_stable_and_items_per_page_is_exact(scim):
    names = [f"user{i}@acme.example" for i in range(5)]
    for name in names:
        created(scim, name)

    first = scim.get("/Users", startIndex="1", count="2").json()
    second = scim.get("/Users", startIndex="3", count="2").json()
    third = scim.get("/Users", startIndex="5", count="2").json()
    only_total = scim.get("/Users", count="0").json()

    pages = [first, second, third]
    assert [r["userName"] for p in pages for r in p["Resources"]] == names
    assert [p["itemsPerPage"] for p in pages] == [2, 2, 1]
    assert {p["totalResults"] for p in pages} == {5}
    assert only_total["totalResults"] == 5
    assert only_total["Resources"] == []


def test_list_attributes_and_excluded_attributes_project(scim):
    created(scim)

    only = scim.get("/Users", attributes="userName,name.givenName").json()
    without = scim.get("/Users", excludedAttributes="emails,meta").json()

    assert only["Resources"][0] == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": only["Resources"][0]["id"],
        "userName": "ada@acme.example",
        "name": {"givenName": "Ada"},
    }
    assert "emails" not in without["Resources"][0]
    assert "meta" not in without["Resources"][0]
    assert without["Resources"][0]["userName"] == "ada@acme.example"


def test_list_query_count_does_not_grow_with_users(scim, django_assert_num_queries):
    ids = [created(scim, f"few{i}@acme.example")["id"] for i in range(3)]
    scim.post("/Groups", {"displayName": "All", "members": [{"value": i} for i in ids]})

    # Token with the subscription, count, page, memberships, request log.
    with django_assert_num_queries(5):
        scim.get("/Users", filter='userName sw "few"')
    for i in range(30):
        created(scim, f"many{i}@acme.example")
    with django_assert_num_queries(5):
        response = scim.get("/Users", filter='userName sw "many"')

    assert response.json()["totalResults"] == 30


def test_request_without_token_is_401_with_scim_error(scim):
    response = scim.client.get(scim.base + "/Users")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "schemas": [ERROR],
        "status": "401",
        "detail": UNAUTHORIZED,
    }


def test_token_of_other_directory_is_401_and_nothing_changes(scim, client):
    other_org = OrganizationFactory()
    other, other_token = directory_create(
        organization=other_org, provider="okta-scim-v2", actor="operator"
    )
    intruder = ScimClient(client, other, scim.token)

    response = intruder.post("/Users", user_body("eve@globex.example"))

    assert response.status_code == 401
    assert DirectoryUser.objects.count() == 0
    assert DirectoryRequest.objects.count() == 0


def test_user_of_other_directory_is_404_and_nothing_changes(
    scim, client, other_organization
):
    user_id = created(scim)["id"]
    subscription_set(
        organization=other_organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    second, token = directory_create(
        organization=other_organization, provider="okta-scim-v2", actor="operator"
    )
    other = ScimClient(client, second, token)

    responses = [
        other.get(f"/Users/{user_id}"),
        other.put(f"/Users/{user_id}", user_body("eve@globex.example")),
        other.patch(
            f"/Users/{user_id}", patch({"op": "replace", "value": {"active": False}})
        ),
        other.delete(f"/Users/{user_id}"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert person().status == User.Status.ACTIVE
    assert DirectoryUser.objects.get().user_name == "ada@acme.example"


def test_not_entitled_organization_is_403_with_message_and_nothing_changes(
    client, organization
):
    directory, token = directory_create(
        organization=organization, provider="okta-scim-v2", actor="operator"
    )
    scim = ScimClient(client, directory, token)

    response = scim.post("/Users", user_body())

    assert response.status_code == 403
    assert response.json() == {
        "schemas": [ERROR],
        "status": "403",
        "detail": NO_SUBSCRIPTION_MESSAGE,
    }
    assert DirectoryUser.objects.count() == 0


def test_inactive_directory_is_403(scim):
    directory_state_set(directory=scim.directory, state="inactive", actor="operator")

    response = scim.post("/Users", user_body())

    assert response.status_code == 403
    assert response.json()["detail"] == DIRECTORY_INACTIVE
    assert DirectoryUser.objects.count() == 0


def test_request_log_records_names_never_values_or_token(scim):
    user_id = created(scim)["id"]

    scim.patch(
        f"/Users/{user_id}",
        patch(
            {
                "op": "replace",
                "path": 'emails[type eq "work"].value',
                "value": "secret@acme.example",
            }
        ),
    )
    scim.get("/Users", filter='userName eq "ada@acme.example"')

    entries = list(DirectoryRequest.objects.order_by("id"))
    assert [(e.method, e.status) for e in entries] == [
        ("POST", 201),
        ("PATCH", 200),
        ("GET", 200),
    ]
    text = " ".join(e.summary + e.path for e in entries)
    assert "ada@acme.example" not in text
    assert "secret@acme.example" not in text
    assert scim.token not in text
    assert entries[1].summary == 'Users replace(emails[type eq "…"].value)'


def test_discovery_endpoints_answer_list_responses(scim):
    schemas = scim.get("/Schemas").json()
    types = scim.get("/ResourceTypes").json()
    config = scim.get("/ServiceProviderConfig").json()

    assert schemas["totalResults"] == 3
    assert types["totalResults"] == 2
    assert config["patch"] == {"supported": True}
    assert config["filter"]["supported"] is True
    assert scim.post("/Schemas", {}).status_code == 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/Users"),
        ("POST", "/Users"),
        ("POST", "/Users/.search"),
        ("GET", "/Users/{user}"),
        ("PUT", "/Users/{user}"),
        ("PATCH", "/Users/{user}"),
        ("DELETE", "/Users/{user}"),
        ("GET", "/Groups"),
        ("POST", "/Groups"),
        ("GET", "/Groups/{group}"),
        ("PATCH", "/Groups/{group}"),
        ("DELETE", "/Groups/{group}"),
        ("GET", "/ServiceProviderConfig"),
        ("GET", "/ResourceTypes"),
        ("GET", "/Schemas"),
    ],
)
def test_every_endpoint_refuses_another_directorys_token(
    scim, client, other_organization, method, path
):
    user_id = created(scim)["id"]
    group_id = scim.post("/Groups", {"displayName": "Eng"}).json()["id"]
    subscription_set(
        organization=other_organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
    )
    _, foreign_token = directory_create(
        organization=other_organization, provider="okta-scim-v2", actor="operator"
    )
    before = DirectoryRequest.objects.count()

    response = scim.request(
        method,
        path.format(user=user_id, group=group_id),
        None
        if method in {"GET", "DELETE"}
        else patch({"op": "remove", "path": "members"}),
        token=foreign_token,
    )

    assert response.status_code == 401
    assert DirectoryUser.objects.get().user.status == User.Status.ACTIVE
    assert scim.get(f"/Groups/{group_id}").status_code == 200
    assert DirectoryRequest.objects.count() == before + 1


def test_locations_follow_each_requests_host_and_scheme(scim, settings):
    settings.ALLOWED_HOSTS = ["scim.acme.example", "other.acme.example"]
    url = f"{scim.base}/Users"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {scim.token}"}

    def location(user_name, **extra):
        response = scim.client.post(
            url,
            json.dumps(user_body(user_name)),
            content_type="application/scim+json",
            **headers,
            **extra,
        )
        assert response.status_code == 201, response.content
        return response["Location"]

    first = location("ada@acme.example", HTTP_HOST="scim.acme.example")
    second = location("grace@acme.example", HTTP_HOST="other.acme.example")
    secure = location(
        "alan@acme.example",
        HTTP_HOST="scim.acme.example",
        HTTP_X_FORWARDED_PROTO="https",
    )
    refused = scim.client.post(
        url,
        json.dumps(user_body("edsger@acme.example")),
        content_type="application/scim+json",
        HTTP_HOST="evil.example",
        **headers,
    )

    assert first.startswith(f"http://scim.acme.example{scim.base}/Users/")
    assert second.startswith(f"http://other.acme.example{scim.base}/Users/")
    assert secure.startswith(f"https://scim.acme.example{scim.base}/Users/")
    assert refused.status_code == 400
    assert (
        DirectoryUser.objects.filter(user_name="edsger@acme.example").exists() is False
    )
