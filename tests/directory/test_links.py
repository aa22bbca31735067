"""Link resolution through the real path: SCIM request, provisioning, task, links.

Tasks run in-process here (the test settings' eager mode) once each request's
transaction commits; tests/directory/test_link_tasks.py runs them in a real
worker.
"""

import pytest

from directory.links import AUDIT_ACTION, links_resolve
from directory.models import DirectoryUser
from directory.models_links import REASONS, LinkIssue, LinkStatus
from directory.scim.schemas import ENTERPRISE
from directory.services import directory_create
from progression.models import AuditEvent, User
from progression.services.people import user_update
from progression.services.teams import (
    position_create,
    position_rename,
    team_create,
    team_delete,
)
from tests.directory.conftest import ScimClient, user_body
from tests.factories import OrganizationFactory, UserFactory


class Sync:
    """A SCIM client whose requests commit, so that link resolution follows."""

    def __init__(self, scim, capture):
        self.scim = scim
        self.capture = capture

    def _send(self, call, *args):
        with self.capture(execute=True):
            response = call(*args)
        assert response.status_code in (200, 201, 204), response.content
        return response

    def create(self, user_name, *, manager=None, department="", title="", **extra):
        body = user_body(user_name, **extra)
        extension = {}
        if manager is not None:
            extension["manager"] = manager
        if department:
            extension["department"] = department
        if extension:
            body["schemas"] = [*body["schemas"], ENTERPRISE]
            body[ENTERPRISE] = extension
        if title:
            body["title"] = title
        response = self._send(self.scim.post, "/Users", body)
        return DirectoryUser.objects.get(scim_id=response.json()["id"])

    def patch(self, directory_user, *operations):
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": list(operations),
        }
        return self._send(self.scim.patch, f"/Users/{directory_user.scim_id}", body)

    def set_manager(self, directory_user, value):
        return self.patch(
            directory_user,
            {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": value},
        )

    def set_department(self, directory_user, value):
        return self.patch(
            directory_user,
            {"op": "replace", "path": f"{ENTERPRISE}:department", "value": value},
        )

    def set_title(self, directory_user, value):
        return self.patch(
            directory_user, {"op": "replace", "path": "title", "value": value}
        )

    def deactivate(self, directory_user, active=False):
        return self.patch(
            directory_user, {"op": "replace", "path": "active", "value": active}
        )

    def in_process(self, call, **kwargs):
        """Call a core service the way the portal does, its effects committed."""
        with self.capture(execute=True):
            return call(**kwargs)


@pytest.fixture
def sync(scim, django_capture_on_commit_callbacks):
    return Sync(scim, django_capture_on_commit_callbacks)


@pytest.fixture
def entra(client, entitled, django_capture_on_commit_callbacks):
    directory, token = directory_create(
        organization=entitled, provider="azure-scim-v2", actor="operator"
    )
    return Sync(
        ScimClient(client, directory, token), django_capture_on_commit_callbacks
    )


def person(directory_user) -> User:
    directory_user.refresh_from_db()
    return User.objects.select_related("manager", "team", "position").get(
        pk=directory_user.user_id
    )


def issues(organization) -> list[tuple[str, str, str]]:
    return sorted(
        (issue.user.email, issue.kind, issue.reason)
        for issue in LinkIssue.objects.filter(organization=organization)
    )


def team(organization, name, *positions):
    created = team_create(organization=organization, name=name, actor=None)
    for position in positions:
        position_create(team=created, name=position, actor=None)
    return created


def test_links_manager_scim_id_as_bare_string_links(entra, entitled):
    boss = entra.create("boss@acme.example")

    report = entra.create("ada@acme.example", manager=str(boss.scim_id))

    assert person(report).manager == person(boss)
    assert issues(entitled) == []


def test_links_manager_complex_value_links(sync):
    boss = sync.create("boss@acme.example")

    report = sync.create(
        "ada@acme.example",
        manager={
            "value": str(boss.scim_id),
            "$ref": f"https://idp.example/Users/{boss.scim_id}",
            "displayName": "Boss",
        },
    )

    assert person(report).manager == person(boss)


def test_links_manager_external_id_links(sync):
    boss = sync.create("boss@acme.example", externalId="E-1001")

    report = sync.create("ada@acme.example", manager={"value": "E-1001"})

    assert person(report).manager == person(boss)


def test_links_manager_email_any_case_links(sync):
    boss = sync.create("boss@acme.example")

    report = sync.create("ada@acme.example", manager={"value": "BOSS@Acme.example"})

    assert person(report).manager == person(boss)


def test_links_manager_email_of_manual_person_links(sync, admin):
    report = sync.create("ada@acme.example", manager={"value": admin.email})

    assert person(report).manager == admin


def test_links_report_before_manager_links_when_manager_arrives(sync, entitled):
    report = sync.create("ada@acme.example", manager={"value": "E-1"})
    flagged = issues(entitled)

    boss = sync.create("boss@acme.example", externalId="E-1")

    assert flagged == [
        (
            "ada@acme.example",
            "manager",
            REASONS["manager_unmatched"].format(value="E-1"),
        )
    ]
    assert person(report).manager == person(boss)
    assert issues(entitled) == []


def test_links_report_before_manager_by_email_links_when_manager_arrives(sync):
    report = sync.create("ada@acme.example", manager={"value": " Boss@ACME.example"})

    boss = sync.create("boss@acme.example")

    assert person(report).manager == person(boss)


def runs(organization) -> int:
    status = LinkStatus.objects.filter(organization=organization).first()
    return 0 if status is None else status.runs


def test_links_new_person_no_one_names_queues_no_run(sync, entitled):
    sync.create("boss@acme.example", externalId="E-1")

    assert runs(entitled) == 0


def test_links_new_person_with_references_queues_a_run(sync, entitled):
    sync.create("ada@acme.example", department="Research")

    assert runs(entitled) == 1
    assert issues(entitled) == [
        ("ada@acme.example", "team", REASONS["team_unmatched"].format(value="Research"))
    ]


def test_links_name_in_another_directory_is_not_the_new_persons(sync, entra, entitled):
    entra.create("ada@acme.example", manager="E-1")
    before = runs(entitled)

    boss = sync.create("boss@acme.example", externalId="E-1")

    assert runs(entitled) == before
    assert person(boss).manager is None


def test_links_manager_without_email_waits_for_one(sync, entitled):
    boss = sync.create("E-1", externalId="E-1", emails=[])
    report = sync.create("ada@acme.example", manager={"value": "E-1"})
    flagged = issues(entitled)

    sync.patch(
        boss,
        {
            "op": "replace",
            "path": "emails",
            "value": [{"value": "boss@acme.example", "primary": True}],
        },
    )

    assert flagged == [
        (
            "ada@acme.example",
            "manager",
            REASONS["manager_unprovisioned"].format(value="E-1"),
        )
    ]
    assert person(report).manager == person(boss)
    assert issues(entitled) == []


def test_links_manager_changed_relinks(sync):
    first = sync.create("first@acme.example")
    second = sync.create("second@acme.example")
    report = sync.create("ada@acme.example", manager=str(first.scim_id))

    sync.set_manager(report, {"value": str(second.scim_id)})

    assert person(report).manager == person(second)


def test_links_cleared_manager_clears_link(sync, entitled):
    boss = sync.create("boss@acme.example")
    report = sync.create("ada@acme.example", manager=str(boss.scim_id))

    sync.patch(report, {"op": "remove", "path": f"{ENTERPRISE}:manager"})

    assert person(report).manager is None
    assert issues(entitled) == []


def test_links_unmatched_manager_keeps_link_and_flags(sync, entitled):
    boss = sync.create("boss@acme.example")
    report = sync.create("ada@acme.example", manager=str(boss.scim_id))

    sync.set_manager(report, {"value": "nobody@acme.example"})

    assert person(report).manager == person(boss)
    assert issues(entitled) == [
        (
            "ada@acme.example",
            "manager",
            REASONS["manager_unmatched"].format(value="nobody@acme.example"),
        )
    ]


def test_links_self_manager_not_applied_and_flagged(sync, entitled):
    report = sync.create("ada@acme.example", externalId="E-7")

    sync.set_manager(report, {"value": "E-7"})

    assert person(report).manager is None
    assert issues(entitled) == [
        ("ada@acme.example", "manager", REASONS["manager_self"].format(value="E-7"))
    ]


def test_links_loop_not_applied_and_flagged(sync, entitled):
    a = sync.create("a@acme.example", externalId="A")
    b = sync.create("b@acme.example", externalId="B", manager={"value": "A"})
    c = sync.create("c@acme.example", externalId="C", manager={"value": "B"})

    sync.set_manager(a, {"value": "C"})

    assert person(a).manager is None
    assert person(b).manager == person(a)
    assert person(c).manager == person(b)
    assert issues(entitled) == [
        ("a@acme.example", "manager", REASONS["manager_loop"].format(value="C"))
    ]


def test_links_loop_resolves_once_broken(sync, entitled):
    a = sync.create("a@acme.example", externalId="A")
    b = sync.create("b@acme.example", externalId="B", manager={"value": "A"})
    c = sync.create("c@acme.example", externalId="C", manager={"value": "B"})
    sync.set_manager(a, {"value": "C"})

    sync.set_manager(b, {"value": "Z"})
    sync.patch(b, {"op": "remove", "path": f"{ENTERPRISE}:manager"})

    assert person(b).manager is None
    assert person(a).manager == person(c)
    assert issues(entitled) == []


def test_links_two_new_links_closing_a_loop_together_are_both_refused(sync, entitled):
    a = sync.create("a@acme.example", externalId="A", manager={"value": "B"})
    b = sync.create("b@acme.example", externalId="B")
    DirectoryUser.objects.filter(pk=b.pk).update(manager_ref="A")
    User.objects.filter(pk=a.user_id).update(manager=None)

    links_resolve(organization=entitled)

    assert person(a).manager is None
    assert person(b).manager is None
    assert [kind for _, kind, _ in issues(entitled)] == ["manager", "manager"]


def test_links_manager_archived_and_reactivated_relinks(sync, entitled):
    boss = sync.create("boss@acme.example")
    report = sync.create("ada@acme.example", manager=str(boss.scim_id))

    sync.deactivate(boss)
    archived = (person(report).manager, issues(entitled))
    sync.deactivate(boss, active=True)

    assert archived == (
        person(boss),
        [
            (
                "ada@acme.example",
                "manager",
                REASONS["manager_archived"].format(value=str(boss.scim_id)),
            )
        ],
    )
    assert person(report).manager == person(boss)
    assert issues(entitled) == []


def test_links_report_arriving_while_manager_archived_links_on_return(sync, entitled):
    boss = sync.create("boss@acme.example")
    sync.deactivate(boss)
    report = sync.create("ada@acme.example", manager=str(boss.scim_id))
    before = person(report).manager

    sync.deactivate(boss, active=True)

    assert before is None
    assert person(report).manager == person(boss)
    assert issues(entitled) == []


def test_links_manager_in_other_directory_of_same_organization_never_links(
    sync, entra, entitled
):
    boss = entra.create("boss@acme.example")

    report = sync.create("ada@acme.example", manager=str(boss.scim_id))

    assert person(report).manager is None
    assert issues(entitled) == [
        (
            "ada@acme.example",
            "manager",
            REASONS["manager_unmatched"].format(value=str(boss.scim_id)),
        )
    ]


def test_links_manager_of_other_organization_never_links(sync, entitled):
    other = OrganizationFactory()
    stranger = UserFactory(organization=other, email="boss@globex.example")
    other_directory, _ = directory_create(
        organization=other, provider="okta-scim-v2", actor="operator"
    )
    stranger_record = DirectoryUser.objects.create(
        directory=other_directory,
        user_name=stranger.email,
        external_id="E-9",
        user=stranger,
    )

    by_email = sync.create("ada@acme.example", manager={"value": stranger.email})
    by_id = sync.create("bob@acme.example", manager={"value": "E-9"})
    by_scim_id = sync.create(
        "cy@acme.example", manager={"value": str(stranger_record.scim_id)}
    )

    assert [person(r).manager for r in (by_email, by_id, by_scim_id)] == [None] * 3
    assert len(issues(entitled)) == 3


def test_links_department_matches_team_ignoring_case_and_space(sync, entitled):
    sales = team(entitled, "Sales Ops")

    report = sync.create("ada@acme.example", department="  sales OPS ")

    assert person(report).team == sales


def test_links_team_created_after_sync_links_and_clears_flag(sync, entitled):
    report = sync.create("ada@acme.example", department="Sales Ops")
    flagged = issues(entitled)

    sales = sync.in_process(
        team_create, organization=entitled, name="Sales Ops", actor=None
    )

    assert flagged == [
        ("ada@acme.example", "team", "no team named 'Sales Ops'"),
    ]
    assert person(report).team == sales
    assert issues(entitled) == []


def test_links_unmatched_department_keeps_team_and_flags(sync, entitled):
    sales = team(entitled, "Sales")
    report = sync.create("ada@acme.example", department="Sales")

    sync.set_department(report, "Marketing")

    assert person(report).team == sales
    assert issues(entitled) == [
        ("ada@acme.example", "team", "no team named 'Marketing'"),
    ]


def test_links_empty_department_and_title_leave_links_alone(sync, entitled):
    sales = team(entitled, "Sales", "Lead")
    report = sync.create("ada@acme.example")
    user = person(report)
    user_update(user=user, actor=None, team=sales, position=sales.positions.get())

    links_resolve(organization=entitled)

    user = person(report)
    assert (user.team, user.position) == (sales, sales.positions.get())
    assert issues(entitled) == []


def test_links_title_matches_position_in_team(sync, entitled):
    sales = team(entitled, "Sales", "Account Executive")

    report = sync.create(
        "ada@acme.example", department="Sales", title="account executive"
    )

    assert person(report).position == sales.positions.get()


def test_links_title_without_team_flagged(sync, entitled):
    report = sync.create("ada@acme.example", title="Engineer")

    assert person(report).position is None
    assert issues(entitled) == [
        (
            "ada@acme.example",
            "position",
            REASONS["position_no_team"].format(value="Engineer"),
        )
    ]


def test_links_position_renamed_to_title_links(sync, entitled):
    sales = team(entitled, "Sales", "Senior AE")
    report = sync.create("ada@acme.example", department="Sales", title="Staff AE")
    flagged = issues(entitled)

    sync.in_process(
        position_rename,
        position=sales.positions.get(),
        name="Staff AE",
        actor=None,
    )

    assert flagged == [
        ("ada@acme.example", "position", "no position named 'Staff AE' in team 'Sales'")
    ]
    assert person(report).position == sales.positions.get()
    assert issues(entitled) == []


def test_links_position_renamed_before_person_arrives_links(sync, entitled):
    sales = team(entitled, "Sales", "Senior AE")
    sync.in_process(
        position_rename,
        position=sales.positions.get(),
        name="Staff AE",
        actor=None,
    )

    report = sync.create("ada@acme.example", department="Sales", title="Staff AE")

    assert person(report).position == sales.positions.get()


def test_links_person_moving_team_rematches_position(sync, entitled):
    team(entitled, "Sales", "Lead")
    support = team(entitled, "Support", "Lead")
    report = sync.create("ada@acme.example", department="Sales", title="Lead")

    sync.set_department(report, "Support")

    user = person(report)
    assert (user.team, user.position) == (support, support.positions.get())


def test_links_person_moving_to_team_without_position_drops_it(sync, entitled):
    team(entitled, "Sales", "Lead")
    support = team(entitled, "Support")
    report = sync.create("ada@acme.example", department="Sales", title="Lead")

    sync.set_department(report, "Support")

    user = person(report)
    assert (user.team, user.position) == (support, None)
    assert issues(entitled) == [
        ("ada@acme.example", "position", "no position named 'Lead' in team 'Support'")
    ]


def test_links_title_changed_rematches_position(sync, entitled):
    sales = team(entitled, "Sales", "Lead", "Associate")
    report = sync.create("ada@acme.example", department="Sales", title="Associate")

    sync.set_title(report, "Lead")

    assert person(report).position == sales.positions.get(name="Lead")


def test_links_team_deleted_then_recreated_relinks(sync, entitled):
    sales = team(entitled, "Sales", "Lead")
    report = sync.create("ada@acme.example", department="Sales", title="Lead")

    sync.in_process(team_delete, team=sales, actor=None)
    gone = (person(report).team, issues(entitled))
    again = sync.in_process(
        team_create, organization=entitled, name="Sales", actor=None
    )
    sync.in_process(position_create, team=again, name="Lead", actor=None)

    assert gone == (
        None,
        [
            (
                "ada@acme.example",
                "position",
                REASONS["position_no_team"].format(value="Lead"),
            ),
            ("ada@acme.example", "team", "no team named 'Sales'"),
        ],
    )
    user = person(report)
    assert (user.team, user.position) == (again, again.positions.get())
    assert issues(entitled) == []


def test_links_manual_people_untouched(sync, entitled, admin):
    sales = team(entitled, "Sales")
    manual = UserFactory(organization=entitled, email="manual@acme.example")
    sync.create("ada@acme.example", department="Sales")

    links_resolve(organization=entitled)

    manual.refresh_from_db()
    assert (manual.team, manual.manager) == (None, None)
    assert sales.members.count() == 1


def test_links_hand_edit_of_synced_link_is_put_back(sync, entitled, admin):
    boss = sync.create("boss@acme.example")
    report = sync.create("ada@acme.example", manager=str(boss.scim_id))

    sync.in_process(user_update, user=person(report), actor=admin, manager=admin)

    assert person(report).manager == person(boss)


def test_links_one_audit_event_per_changed_person_none_when_unchanged(sync, entitled):
    sales = team(entitled, "Sales", "Lead")
    boss = sync.create("boss@acme.example", department="Sales")
    report = sync.create(
        "ada@acme.example",
        manager=str(boss.scim_id),
        department="Sales",
        title="Lead",
    )
    events = AuditEvent.objects.filter(action=AUDIT_ACTION)
    first = events.count()
    event = events.get(target_id=str(report.user_id))

    again = links_resolve(organization=entitled)

    assert first == 2
    assert event.actor_label == report.directory.actor_label
    assert event.before == {"manager": None, "team": None, "position": None}
    assert event.after == {
        "manager": "boss@acme.example",
        "team": sales.name,
        "position": "Lead",
    }
    assert again.changed == 0
    assert events.count() == first


def test_links_run_records_status(sync, entitled):
    sync.create("ada@acme.example", title="Analyst")

    status = LinkStatus.objects.get(organization=entitled)

    assert status.runs >= 1
    assert status.resolved_at is not None
    assert status.last_people >= 1


def test_links_subset_run_matches_full_run(sync, entitled):
    team(entitled, "Sales", "Lead")
    team(entitled, "Support", "Lead")
    a = sync.create("a@acme.example", externalId="A", department="Sales")
    b = sync.create("b@acme.example", externalId="B", manager={"value": "A"})
    c = sync.create("c@acme.example", manager={"value": "b@acme.example"})
    DirectoryUser.objects.filter(pk=a.pk).update(
        manager_ref="C", department="support", title="lead"
    )
    DirectoryUser.objects.filter(pk=c.pk).update(manager_ref="A")

    partial = links_resolve(organization=entitled, user_ids=[a.user_id])
    after_partial = {
        u.email: (u.manager_id, u.team_id, u.position_id)
        for u in User.objects.filter(organization=entitled)
    }
    after_partial_issues = issues(entitled)
    full = links_resolve(organization=entitled)

    assert partial.changed > 0
    assert full.changed == 0
    assert after_partial == {
        u.email: (u.manager_id, u.team_id, u.position_id)
        for u in User.objects.filter(organization=entitled)
    }
    assert after_partial_issues == issues(entitled)
    assert person(b).manager == person(a)


def test_links_person_moving_team_without_title_drops_position(sync, entitled):
    sales = team(entitled, "Sales", "Lead")
    support = team(entitled, "Support")
    report = sync.create("ada@acme.example", department="Sales")
    user_update(
        user=person(report), actor=None, team=sales, position=sales.positions.get()
    )

    sync.set_department(report, "Support")

    user = person(report)
    assert (user.team, user.position) == (support, None)
    assert issues(entitled) == []


def test_links_manager_id_shared_by_two_directory_users_flagged(sync, entitled):
    sync.create("one@acme.example", externalId="E-1")
    sync.create("two@acme.example", externalId="E-1")

    report = sync.create("ada@acme.example", manager={"value": "E-1"})

    assert person(report).manager is None
    assert issues(entitled) == [
        (
            "ada@acme.example",
            "manager",
            REASONS["manager_ambiguous"].format(value="E-1"),
        )
    ]


def test_links_archived_person_keeps_links_and_loses_issues(sync, entitled):
    sales = team(entitled, "Sales")
    report = sync.create("ada@acme.example", department="Sales")
    sync.set_department(report, "Marketing")
    flagged = len(issues(entitled))

    sync.deactivate(report)

    assert flagged == 1
    assert person(report).team == sales
    assert issues(entitled) == []
