"""Realistic provisioning sessions, in the order and shapes each IdP sends them."""

from django.core import mail

from directory.models import DirectoryMembership, DirectoryUser
from directory.services import directory_create
from progression.models import AuditEvent, User
from tests.directory.conftest import ScimClient

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_V1 = "urn:scim:schemas:core:1.0"


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def okta_user(email, given="Grace", family="Hopper", department=None):
    body = {
        "schemas": [USER, ENTERPRISE],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": "00u1abcd",
        "groups": [],
        "password": "T3mp-from-okta!",
        "active": True,
    }
    if department:
        body[ENTERPRISE] = {"department": department}
    return body


def the_person():
    return DirectoryUser.objects.select_related("user").get().user


def test_okta_v2_session_assign_update_move_unassign_reassign(scim):
    assert scim.get("/Users", startIndex="1", count="2").status_code == 200
    assert scim.get("/Groups", startIndex="1", count="100").status_code == 200
    probe = scim.get(
        "/Users", filter='userName eq "grace@acme.example"', startIndex="1", count="100"
    )
    assert probe.json()["totalResults"] == 0

    # Assign.
    created = scim.post("/Users", okta_user("grace@acme.example"))
    user_id = created.json()["id"]
    account = the_person()
    # Update profile: GET then full PUT.
    current = scim.get(f"/Users/{user_id}").json()
    scim.put(
        f"/Users/{user_id}",
        {**current, "name": {"givenName": "Grace", "familyName": "Murray"}},
    )
    # Change email (and userName with it).
    scim.put(
        f"/Users/{user_id}", okta_user("grace.hopper@acme.example", family="Murray")
    )
    # Move department.
    scim.put(
        f"/Users/{user_id}",
        okta_user("grace.hopper@acme.example", family="Murray", department="Navy"),
    )
    # Push a group, add her, rename it (Okta repeats the id), remove her.
    group_id = scim.post(
        "/Groups", {"schemas": [], "displayName": "Eng", "members": []}
    ).json()["id"]
    scim.patch(
        f"/Groups/{group_id}",
        patch(
            {
                "op": "add",
                "path": "members",
                "value": [{"value": user_id, "display": "grace"}],
            }
        ),
    )
    scim.patch(
        f"/Groups/{group_id}",
        patch(
            {"op": "replace", "value": {"id": group_id, "displayName": "Engineering"}}
        ),
    )
    scim.patch(
        f"/Groups/{group_id}",
        patch({"op": "remove", "path": f'members[value eq "{user_id}"]'}),
    )
    # Unassign: Okta deactivates, never deletes.
    scim.patch(
        f"/Users/{user_id}", patch({"op": "replace", "value": {"active": False}})
    )
    archived = the_person()
    # Reassign: found by userName, reactivated.
    found = scim.get("/Users", filter='userName eq "grace.hopper@acme.example"').json()
    scim.patch(
        f"/Users/{found['Resources'][0]['id']}",
        patch({"op": "replace", "value": {"active": True}}),
    )

    assert created.status_code == 201
    assert archived.status == User.Status.ARCHIVED
    person = the_person()
    assert person.pk == account.pk
    assert person.status == User.Status.ACTIVE
    assert (person.email, person.last_name) == ("grace.hopper@acme.example", "Murray")
    assert DirectoryUser.objects.get().department == "Navy"
    assert DirectoryMembership.objects.count() == 0
    assert person.has_usable_password() is False
    assert mail.outbox == []
    actions = list(
        AuditEvent.objects.filter(target_id=str(person.pk), target_type="user")
        .order_by("id")
        .values_list("action", "actor_label")
    )
    label = scim.directory.actor_label
    assert actions[0] == ("user.created", label)
    assert ("user.archived", label) in actions
    assert actions[-1] == ("user.reactivated", label)


def test_entra_session_without_flag(client, entitled):
    directory, token = directory_create(
        organization=entitled, provider="azure-scim-v2", actor="operator"
    )
    scim = ScimClient(client, directory, token)
    # Test Connection.
    probe = scim.get(
        "/Users", filter='userName eq "2e1b7a56-2cd6-4cf0-a9a0-0f8d6f3c0f9a"'
    )
    groups_probe = scim.get(
        "/Groups", filter='displayName eq "x"', excludedAttributes="members"
    )
    # Create.
    created = scim.post(
        "/Users",
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "userName": "Test_User_00aa00aa@acme.example",
            "active": True,
            "emails": [
                {
                    "primary": True,
                    "type": "work",
                    "value": "Test_User_00aa00aa@acme.example",
                }
            ],
            "meta": {"resourceType": "User"},
            "name": {
                "formatted": "givenName familyName",
                "familyName": "familyName",
                "givenName": "givenName",
            },
            "roles": [],
        },
    )
    user_id = created.json()["id"]
    manager_id = scim.post(
        "/Users",
        {
            "userName": "boss@acme.example",
            "emails": [{"value": "boss@acme.example", "type": "work"}],
        },
    ).json()["id"]
    # Update profile, one operation per attribute, capitalised ops.
    scim.patch(
        f"/Users/{user_id}",
        patch(
            {"op": "Replace", "path": "displayName", "value": "Katherine Johnson"},
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "katherine@acme.example",
            },
            {"op": "Replace", "path": "name.givenName", "value": "Katherine"},
            {"op": "Replace", "path": "name.familyName", "value": "Johnson"},
            {"op": "Add", "path": "title", "value": "Mathematician"},
            {
                "op": "Add",
                "path": f"{ENTERPRISE}:department",
                "value": "Flight Research",
            },
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": manager_id},
        ),
    )
    # Group with members added and removed by value list.
    group_id = scim.post(
        "/Groups", {"displayName": "NASA", "externalId": "g-1"}
    ).json()["id"]
    scim.patch(
        f"/Groups/{group_id}",
        patch(
            {
                "op": "Add",
                "path": "members",
                "value": [{"value": user_id}, {"value": manager_id}],
            }
        ),
    )
    scim.patch(
        f"/Groups/{group_id}",
        patch({"op": "Remove", "path": "members", "value": [{"value": manager_id}]}),
    )
    # Soft delete, restore, hard delete.
    scim.patch(
        f"/Users/{user_id}",
        patch({"op": "Replace", "path": "active", "value": "False"}),
    )
    soft_deleted = the_person_of(user_id).status
    still_listed = scim.get(
        "/Users", filter='userName eq "Test_User_00aa00aa@acme.example"'
    ).json()
    scim.patch(
        f"/Users/{user_id}", patch({"op": "Replace", "path": "active", "value": "True"})
    )
    restored = the_person_of(user_id).status
    deleted = scim.delete(f"/Users/{user_id}")

    assert probe.json()["totalResults"] == 0
    assert groups_probe.status_code == 200
    assert created.status_code == 201
    assert soft_deleted == User.Status.ARCHIVED
    assert still_listed["Resources"][0]["active"] is False
    assert restored == User.Status.ACTIVE
    assert deleted.status_code == 204
    assert scim.get(f"/Users/{user_id}").status_code == 404
    record = DirectoryUser.objects.get(scim_id=user_id)
    assert (record.manager_ref, record.department, record.title) == (
        manager_id,
        "Flight Research",
        "Mathematician",
    )
    assert record.user.email == "katherine@acme.example"
    assert record.user.status == User.Status.ARCHIVED
    assert (
        list(
            DirectoryMembership.objects.values_list(
                "directory_user__scim_id", flat=True
            )
        )
        == []
    )


def the_person_of(scim_id):
    return DirectoryUser.objects.select_related("user").get(scim_id=scim_id).user


def test_entra_session_with_flag(client, entitled):
    directory, token = directory_create(
        organization=entitled, provider="azure-scim-v2", actor="operator"
    )
    scim = ScimClient(client, directory, token)
    user_id = scim.post(
        "/Users",
        {
            "userName": "mary@acme.example",
            "emails": [{"primary": True, "type": "work", "value": "mary@acme.example"}],
            "active": True,
        },
    ).json()["id"]
    group_id = scim.post(
        "/Groups", {"displayName": "Ops", "members": [{"value": user_id}]}
    ).json()["id"]

    scim.patch(
        f"/Users/{user_id}?aadOptscim062020",
        patch(
            {
                "op": "replace",
                "value": {
                    "name.givenName": "Mary",
                    "name.familyName": "Jackson",
                    f"{ENTERPRISE}:department": "Engineering",
                },
            }
        ),
    )
    scim.patch(
        f"/Groups/{group_id}",
        patch({"op": "remove", "path": f'members[value eq "{user_id}"]'}),
    )
    scim.patch(
        f"/Users/{user_id}", patch({"op": "replace", "path": "active", "value": False})
    )

    person = the_person_of(user_id)
    assert (person.first_name, person.last_name) == ("Mary", "Jackson")
    assert person.status == User.Status.ARCHIVED
    assert DirectoryUser.objects.get(scim_id=user_id).department == "Engineering"
    assert DirectoryMembership.objects.count() == 0


def test_okta_v1_session(scim_v1):
    assert scim_v1.get("/ServiceProviderConfigs").status_code == 200
    assert (
        scim_v1.get("/Users", filter='userName eq "dorothy@acme.example"').json()[
            "totalResults"
        ]
        == 0
    )
    body = {
        "schemas": [CORE_V1],
        "userName": "dorothy@acme.example",
        "name": {"givenName": "Dorothy", "familyName": "Vaughan"},
        "emails": [{"primary": True, "value": "dorothy@acme.example", "type": "work"}],
        "password": "from-okta",
        "active": True,
    }
    user_id = scim_v1.post("/Users", body).json()["id"]
    account = the_person_of(user_id)

    scim_v1.put(f"/Users/{user_id}", {**body, "title": "Supervisor"})
    scim_v1.patch(
        f"/Users/{user_id}", {"schemas": [CORE_V1], "id": user_id, "active": False}
    )
    archived = the_person_of(user_id).status
    scim_v1.patch(
        f"/Users/{user_id}", {"schemas": [CORE_V1], "id": user_id, "active": True}
    )
    group = scim_v1.post(
        "/Groups",
        {
            "schemas": [CORE_V1],
            "displayName": "West",
            "members": [{"value": user_id, "display": "d"}],
        },
    ).json()
    scim_v1.patch(
        f"/Groups/{group['id']}",
        {"schemas": [CORE_V1], "id": group["id"], "displayName": "West Computing"},
    )
    scim_v1.patch(
        f"/Groups/{group['id']}",
        {"schemas": [CORE_V1], "members": [{"value": user_id, "operation": "delete"}]},
    )

    person = the_person_of(user_id)
    assert archived == User.Status.ARCHIVED
    assert person.pk == account.pk
    assert person.status == User.Status.ACTIVE
    assert DirectoryUser.objects.get().title == "Supervisor"
    assert (
        scim_v1.get(f"/Groups/{group['id']}").json()["displayName"] == "West Computing"
    )
    assert DirectoryMembership.objects.count() == 0
