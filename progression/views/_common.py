"""What the portal shell's pages share: the organisation-scoped querysets and
a person's page, which is also a member's home."""

from urllib.parse import urlencode

from django.db.models import Prefetch
from django.shortcuts import render

from progression.forms import ArchiveForm, PersonForm
from progression.models import AuditEvent, Position, Team, User


def _people(request):
    return User.objects.filter(organization_id=request.user.organization_id)


def _teams(request):
    return Team.objects.filter(organization_id=request.user.organization_id)


def _filters_query(filters: dict) -> str:
    return urlencode({k: v for k, v in filters.items() if v})


def _teams_with_positions(request):
    return _teams(request).prefetch_related(
        Prefetch("positions", queryset=Position.objects.order_by("name"))
    )


def _person_form_data(person: User) -> dict:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "role": person.role,
        "team": person.team_id,
        "position": person.position_id,
        "manager_email": person.manager.email if person.manager_id else "",
    }


def _render_person(request, person: User, form=None, status=200):
    context = {"person": person, "section": "people"}
    if request.user.is_admin:
        teams = list(_teams_with_positions(request))
        context["form"] = form or PersonForm(
            initial=_person_form_data(person), teams=teams
        )
        context["archive_form"] = ArchiveForm()
        context["reports"] = person.reports.filter(status=User.Status.ACTIVE)[:20]
        context["history"] = AuditEvent.objects.filter(
            organization_id=person.organization_id,
            target_type="user",
            target_id=str(person.pk),
        ).select_related("actor")[:20]
    return render(request, "progression/person.html", context, status=status)
