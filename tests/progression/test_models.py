"""The database itself refuses links across organisations and teams.

These write through the ORM's `save()` on purpose, past the services' checks, to
show the PostgreSQL keys hold on their own.
"""

import pytest
from django.db import IntegrityError, transaction

from progression.models import Team, User
from tests.factories import PositionFactory, TeamFactory, UserFactory


def _save_refused(user: User) -> bool:
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        return True
    return False


def test_user_team_of_other_organization_refused_by_database(
    organization, other_organization
):
    user = UserFactory(organization=organization)
    user.team = TeamFactory(organization=other_organization)

    assert _save_refused(user) is True
    assert User.objects.get(pk=user.pk).team_id is None


def test_user_manager_of_other_organization_refused_by_database(
    organization, other_organization
):
    user = UserFactory(organization=organization)
    user.manager = UserFactory(organization=other_organization)

    assert _save_refused(user) is True
    assert User.objects.get(pk=user.pk).manager_id is None


def test_user_position_outside_team_refused_by_database(organization):
    team = TeamFactory(organization=organization)
    user = UserFactory(organization=organization, team=team)
    user.position = PositionFactory(team=TeamFactory(organization=organization))

    assert _save_refused(user) is True
    assert User.objects.get(pk=user.pk).position_id is None


def test_user_position_without_team_refused_by_database(organization):
    user = UserFactory(organization=organization)
    user.position = PositionFactory(team=TeamFactory(organization=organization))

    assert _save_refused(user) is True


def test_user_links_within_organization_accepted_by_database(organization):
    position = PositionFactory(team=TeamFactory(organization=organization))
    manager = UserFactory(organization=organization)
    user = UserFactory(organization=organization)
    user.team, user.position, user.manager = position.team, position, manager

    assert _save_refused(user) is False


def test_user_email_unique_ignoring_case_in_database(organization):
    UserFactory(organization=organization, email="Same@Example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(organization=organization, email="same@example.com")


def test_team_name_unique_ignoring_case_and_spaces_in_database(organization):
    TeamFactory(organization=organization, name="Sales")

    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(organization=organization, name=" SALES ")


def test_team_delete_through_orm_unlinks_members(organization):
    position = PositionFactory(team=TeamFactory(organization=organization))
    user = UserFactory(organization=organization, team=position.team, position=position)

    position.team.delete()

    user.refresh_from_db()
    assert (user.team_id, user.position_id) == (None, None)


def _leading_columns(db) -> dict[str, list[str]]:
    """Each index on progression_user and the columns it starts with."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "progression_user"
        )
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] and info["columns"]
    }


@pytest.mark.parametrize("column", ["organization_id", "team_id"])
def test_user_column_is_indexed_only_by_composite_indexes(db, column):
    # A composite index serves lookups and cascades by the column; a
    # separate one would only slow every insert.
    starting = [
        columns for columns in _leading_columns(db).values() if columns[0] == column
    ]

    assert [column] not in starting
    assert [column, "last_name", "first_name", "id"] in starting
