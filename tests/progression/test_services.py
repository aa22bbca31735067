import pytest
from django.utils import timezone

from progression.errors import (
    ConflictError,
    CrossOrganizationError,
    ValidationFailedError,
)
from progression.models import AuditEvent, User
from progression.services.messages import (
    DOMAIN_TAKEN,
    EMAIL_INVALID,
    EMAIL_TAKEN,
    LAST_ADMIN,
    MANAGER_LOOP,
    MANAGER_OTHER_ORGANIZATION,
    MANAGER_SELF,
    POSITION_NAME_TAKEN,
    POSITION_OTHER_TEAM,
    TEAM_NAME_TAKEN,
    TEAM_OTHER_ORGANIZATION,
)
from progression.services.organizations import (
    organization_create,
    organization_domain_add,
)
from progression.services.people import (
    user_archive,
    user_create,
    user_reactivate,
    user_update,
)
from progression.services.teams import (
    position_create,
    position_delete,
    team_create,
    team_delete,
    team_rename,
)
from progression.signals import people_links_changed
from tests.factories import PositionFactory, TeamFactory, UserFactory


def test_user_create_records_an_audit_event(organization, admin):
    team = TeamFactory(organization=organization, name="Sales")

    user = user_create(
        organization=organization,
        email="New.Person@ACME.example",
        first_name="New",
        last_name="Person",
        team=team,
        actor=admin,
    )

    assert user.email == "New.Person@acme.example"
    assert user.status == User.Status.ACTIVE
    assert user.has_usable_password() is False
    event = AuditEvent.objects.get(action="user.created", target_id=str(user.pk))
    assert event.actor == admin
    assert event.after["team"] == "Sales"


def test_user_create_email_taken_ignoring_case_refused(organization, member):
    with pytest.raises(ConflictError) as excinfo:
        user_create(organization=organization, email="MEMBER@acme.example")

    assert excinfo.value.message == EMAIL_TAKEN
    assert User.objects.filter(email__iexact="member@acme.example").count() == 1


def test_user_create_invalid_email_refused(organization):
    with pytest.raises(ValidationFailedError) as excinfo:
        user_create(organization=organization, email="not an email")

    assert excinfo.value.message == EMAIL_INVALID
    assert User.objects.count() == 0


def test_user_create_team_of_other_organization_refused(
    organization, other_organization
):
    foreign_team = TeamFactory(organization=other_organization)

    with pytest.raises(CrossOrganizationError) as excinfo:
        user_create(
            organization=organization, email="a@acme.example", team=foreign_team
        )

    assert excinfo.value.message == TEAM_OTHER_ORGANIZATION
    assert User.objects.filter(email="a@acme.example").exists() is False


def test_user_create_manager_of_other_organization_refused(
    organization, other_organization
):
    foreign_manager = UserFactory(organization=other_organization)

    with pytest.raises(CrossOrganizationError) as excinfo:
        user_create(
            organization=organization, email="a@acme.example", manager=foreign_manager
        )

    assert excinfo.value.message == MANAGER_OTHER_ORGANIZATION
    assert User.objects.filter(email="a@acme.example").exists() is False


def test_user_create_position_outside_team_refused(organization):
    team = TeamFactory(organization=organization)
    other_position = PositionFactory(team=TeamFactory(organization=organization))

    with pytest.raises(ValidationFailedError) as excinfo:
        user_create(
            organization=organization,
            email="a@acme.example",
            team=team,
            position=other_position,
        )

    assert excinfo.value.message == POSITION_OTHER_TEAM
    assert User.objects.filter(email="a@acme.example").exists() is False


def test_user_update_position_of_other_team_refused(organization, member, admin):
    team = TeamFactory(organization=organization)
    user_update(user=member, team=team, actor=admin)
    elsewhere = PositionFactory(team=TeamFactory(organization=organization))

    with pytest.raises(ValidationFailedError):
        user_update(user=member, position=elsewhere, actor=admin)

    member.refresh_from_db()
    assert member.position_id is None


def test_user_update_team_change_drops_position_of_old_team(
    organization, member, admin
):
    old = PositionFactory(team=TeamFactory(organization=organization))
    user_update(user=member, team=old.team, position=old, actor=admin)
    new_team = TeamFactory(organization=organization)

    user_update(user=member, team=new_team, actor=admin)

    member.refresh_from_db()
    assert (member.team_id, member.position_id) == (new_team.pk, None)


def test_user_update_manager_loop_refused(organization, admin):
    top = UserFactory(organization=organization)
    middle = UserFactory(organization=organization, manager=top)
    bottom = UserFactory(organization=organization, manager=middle)

    with pytest.raises(ValidationFailedError) as excinfo:
        user_update(user=top, manager=bottom, actor=admin)

    assert excinfo.value.message == MANAGER_LOOP
    top.refresh_from_db()
    assert top.manager_id is None


def test_user_update_own_manager_refused(member, admin):
    with pytest.raises(ValidationFailedError) as excinfo:
        user_update(user=member, manager=member, actor=admin)

    assert excinfo.value.message == MANAGER_SELF


def test_user_update_records_only_changed_fields(member, admin):
    user_update(user=member, first_name="Renamed", actor=admin)

    event = AuditEvent.objects.get(action="user.updated")
    assert event.after == {"first_name": "Renamed"}
    assert list(event.before) == ["first_name"]


def test_user_update_without_change_records_nothing(member, admin):
    user_update(user=member, first_name=member.first_name, actor=admin)

    assert AuditEvent.objects.filter(action="user.updated").exists() is False


def test_user_archive_then_reactivate_keeps_the_same_account(member, admin):
    team = TeamFactory(organization=member.organization)
    user_update(user=member, team=team, actor=admin)

    user_archive(user=member, reason="Left", actor=admin)
    member.refresh_from_db()
    assert member.status == User.Status.ARCHIVED
    assert member.archived_reason == "Left"
    assert member.archived_at <= timezone.now()
    assert member.is_active is False

    user_reactivate(user=member, actor=admin)
    member.refresh_from_db()
    assert member.status == User.Status.ACTIVE
    assert member.archived_at is None
    assert member.team_id == team.pk
    actions = list(
        AuditEvent.objects.filter(target_id=str(member.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["user.archived", "user.reactivated"]


def test_user_archive_twice_records_one_event(member, admin):
    user_archive(user=member, reason="Left", actor=admin)
    user_archive(user=member, reason="Left again", actor=admin)

    assert AuditEvent.objects.filter(action="user.archived").count() == 1
    member.refresh_from_db()
    assert member.archived_reason == "Left"


def test_user_archive_last_admin_refused(admin):
    with pytest.raises(ValidationFailedError) as excinfo:
        user_archive(user=admin, reason="", actor=admin)

    assert excinfo.value.message == LAST_ADMIN
    admin.refresh_from_db()
    assert admin.status == User.Status.ACTIVE


def test_user_update_demoting_last_admin_refused(admin):
    with pytest.raises(ValidationFailedError):
        user_update(user=admin, role=User.Role.MEMBER, actor=admin)

    admin.refresh_from_db()
    assert admin.role == User.Role.ADMIN


def test_team_create_name_taken_ignoring_case_and_spaces_refused(organization):
    team_create(organization=organization, name="Sales Ops", actor=None)

    with pytest.raises(ConflictError) as excinfo:
        team_create(organization=organization, name="  sales   ops ", actor=None)

    assert excinfo.value.message == TEAM_NAME_TAKEN


def test_team_create_same_name_in_other_organization_allowed(
    organization, other_organization
):
    team_create(organization=organization, name="Sales", actor=None)

    team = team_create(organization=other_organization, name="Sales", actor=None)

    assert team.organization == other_organization


def test_team_rename_to_taken_name_refused(organization):
    team_create(organization=organization, name="Sales", actor=None)
    team = team_create(organization=organization, name="Support", actor=None)

    with pytest.raises(ConflictError):
        team_rename(team=team, name="SALES", actor=None)

    team.refresh_from_db()
    assert team.name == "Support"


def test_team_delete_keeps_members_without_team_or_position(organization, admin):
    position = PositionFactory(team=TeamFactory(organization=organization))
    person = UserFactory(
        organization=organization, team=position.team, position=position
    )

    team_delete(team=position.team, actor=admin)

    person.refresh_from_db()
    assert (person.team_id, person.position_id, person.status) == (
        None,
        None,
        User.Status.ACTIVE,
    )
    event = AuditEvent.objects.get(action="team.deleted")
    assert event.before["members"] == 1
    assert event.before["positions"] == [position.name]


def test_position_create_name_taken_in_team_refused(organization):
    team = TeamFactory(organization=organization)
    position_create(team=team, name="Engineer", actor=None)

    with pytest.raises(ConflictError) as excinfo:
        position_create(team=team, name="engineer", actor=None)

    assert excinfo.value.message == POSITION_NAME_TAKEN


def test_position_delete_keeps_holders_in_team(organization, admin):
    position = PositionFactory(team=TeamFactory(organization=organization))
    person = UserFactory(
        organization=organization, team=position.team, position=position
    )

    position_delete(position=position, actor=admin)

    person.refresh_from_db()
    assert (person.team_id, person.position_id) == (position.team_id, None)


def test_organization_create_domain_taken_refused(organization):
    organization_domain_add(
        organization=organization, domain="acme.example", actor=None
    )

    with pytest.raises(ConflictError) as excinfo:
        organization_create(name="Copycat", domains=["ACME.example"])

    assert excinfo.value.message == DOMAIN_TAKEN
    assert not type(organization).objects.filter(name="Copycat").exists()


def test_people_links_changed_sent_for_person_and_team_changes(organization, admin):
    received = []

    def receiver(sender, organization_id, user_ids, **kwargs):
        received.append((organization_id, user_ids))

    people_links_changed.connect(receiver)
    try:
        person = user_create(organization=organization, email="s@acme.example")
        user_update(user=person, first_name="Sig", actor=admin)
        team_create(organization=organization, name="Signals", actor=admin)
        user_update(user=person, first_name="Sig", actor=admin)
    finally:
        people_links_changed.disconnect(receiver)

    assert received == [
        (organization.pk, [person.pk]),
        (organization.pk, [person.pk]),
        (organization.pk, None),
    ]


def test_user_create_unusable_passwords_differ(organization):
    first = user_create(organization=organization, email="a@acme.example")
    second = user_create(organization=organization, email="b@acme.example")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.has_usable_password(), second.has_usable_password()) == (
        False,
        False,
    )
    assert first.password != second.password
    assert len(first.password) == len(second.password) == 41
    assert first.check_password(first.password[1:]) is False
