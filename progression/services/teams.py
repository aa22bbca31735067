"""Teams and their positions: create, rename and delete.

Team names are unique in an organisation and position names in a team,
ignoring case and surrounding spaces.
"""

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower, Trim

from progression.errors import ConflictError
from progression.models import Organization, Position, Team, User
from progression.services._common import _clean_name, _links_changed
from progression.services.audit import Actor, audit_record
from progression.services.messages import POSITION_NAME_TAKEN, TEAM_NAME_TAKEN


def _team_name_taken(organization: Organization, name: str, exclude=None) -> bool:
    teams = Team.objects.annotate(key=Lower(Trim("name"))).filter(
        organization=organization, key=name.lower()
    )
    if exclude is not None:
        teams = teams.exclude(pk=exclude.pk)
    return teams.exists()


def _position_name_taken(team: Team, name: str, exclude=None) -> bool:
    positions = Position.objects.annotate(key=Lower(Trim("name"))).filter(
        team=team, key=name.lower()
    )
    if exclude is not None:
        positions = positions.exclude(pk=exclude.pk)
    return positions.exists()


def team_create(*, organization: Organization, name: str, actor: Actor) -> Team:
    """Create a team; names are unique in an organisation, ignoring case."""
    name = _clean_name(name)
    if _team_name_taken(organization, name):
        raise ConflictError(TEAM_NAME_TAKEN, code="team_name_taken")

    try:
        with transaction.atomic():
            team = Team.objects.create(organization=organization, name=name)
            audit_record(
                organization=organization,
                actor=actor,
                action="team.created",
                target=team,
                after={"name": name},
            )
            _links_changed(organization.pk)
    except IntegrityError as exc:
        raise ConflictError(TEAM_NAME_TAKEN, code="team_name_taken") from exc
    return team


def team_rename(*, team: Team, name: str, actor: Actor) -> Team:
    name = _clean_name(name)
    if name == team.name:
        return team
    if _team_name_taken(team.organization, name, exclude=team):
        raise ConflictError(TEAM_NAME_TAKEN, code="team_name_taken")

    before = team.name
    team.name = name
    with transaction.atomic():
        team.save(update_fields=["name"])
        audit_record(
            organization=team.organization,
            actor=actor,
            action="team.renamed",
            target=team,
            before={"name": before},
            after={"name": name},
        )
        _links_changed(team.organization_id)
    return team


def team_delete(*, team: Team, actor: Actor) -> None:
    """Delete a team and its positions; its members keep their accounts.

    Members are left without a team and position, recorded in the audit event.
    """
    organization = team.organization
    with transaction.atomic():
        members = User.objects.filter(team=team).update(team=None, position=None)
        audit_record(
            organization=organization,
            actor=actor,
            action="team.deleted",
            target=team,
            before={
                "name": team.name,
                "positions": list(team.positions.values_list("name", flat=True)),
                "members": members,
            },
        )
        _links_changed(organization.pk)
        team.delete()


def position_create(*, team: Team, name: str, actor: Actor) -> Position:
    """Create a position in a team; names are unique in a team, ignoring case."""
    name = _clean_name(name)
    if _position_name_taken(team, name):
        raise ConflictError(POSITION_NAME_TAKEN, code="position_name_taken")

    try:
        with transaction.atomic():
            position = Position.objects.create(team=team, name=name)
            audit_record(
                organization=team.organization,
                actor=actor,
                action="position.created",
                target=position,
                after={"name": name, "team": team.name},
            )
            _links_changed(team.organization_id)
    except IntegrityError as exc:
        raise ConflictError(POSITION_NAME_TAKEN, code="position_name_taken") from exc
    return position


def position_rename(*, position: Position, name: str, actor: Actor) -> Position:
    name = _clean_name(name)
    if name == position.name:
        return position
    if _position_name_taken(position.team, name, exclude=position):
        raise ConflictError(POSITION_NAME_TAKEN, code="position_name_taken")

    before = position.name
    position.name = name
    with transaction.atomic():
        position.save(update_fields=["name"])
        audit_record(
            organization=position.team.organization,
            actor=actor,
            action="position.renamed",
            target=position,
            before={"name": before},
            after={"name": name},
        )
        _links_changed(position.team.organization_id)
    return position


def position_delete(*, position: Position, actor: Actor) -> None:
    """Delete a position; the people who held it stay in the team without one."""
    with transaction.atomic():
        holders = User.objects.filter(position=position).update(position=None)
        audit_record(
            organization=position.team.organization,
            actor=actor,
            action="position.deleted",
            target=position,
            before={
                "name": position.name,
                "team": position.team.name,
                "holders": holders,
            },
        )
        _links_changed(position.team.organization_id)
        position.delete()
