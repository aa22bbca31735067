"""Teams and their positions: create, rename, delete."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from progression.access import admin_required
from progression.errors import ProgressionError
from progression.forms import NameForm
from progression.models import Position, User
from progression.portal import carried_out
from progression.services import teams as team_services
from progression.services.messages import NAME_REQUIRED
from progression.views._common import _teams


@admin_required
@require_http_methods(["GET", "POST"])
def teams(request):
    form = NameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_services.team_create(
                organization=request.user.organization,
                name=form.cleaned_data["name"],
                actor=request.user,
            )
            messages.success(request, f"Team {team} was created.")
            return redirect("team", pk=team.pk)
        except ProgressionError as exc:
            form.add_error("name", exc.message)
    rows = _teams(request).annotate(
        member_count=Count(
            "members", filter=Q(members__status=User.Status.ACTIVE), distinct=True
        ),
        position_count=Count("positions", distinct=True),
    )
    return render(
        request,
        "progression/teams.html",
        {"teams": rows, "form": form, "section": "teams"},
        status=400 if form.errors else 200,
    )


@admin_required
@require_http_methods(["GET", "POST"])
def team(request, pk):
    """A team: rename it, manage its positions, see its members."""
    team = get_object_or_404(_teams(request), pk=pk)
    rename_form = NameForm(initial={"name": team.name}, prefix="rename")
    position_form = NameForm(prefix="position")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        form = NameForm(request.POST, prefix=action if action else None)
        try:
            if action == "rename" and form.is_valid():
                team_services.team_rename(
                    team=team, name=form.cleaned_data["name"], actor=request.user
                )
                messages.success(request, "Team renamed.")
                return redirect("team", pk=team.pk)
            if action == "position" and form.is_valid():
                position = team_services.position_create(
                    team=team, name=form.cleaned_data["name"], actor=request.user
                )
                messages.success(request, f"Position {position} was added.")
                return redirect("team", pk=team.pk)
        except ProgressionError as exc:
            form.add_error("name", exc.message)
        if action == "rename":
            rename_form = form
        else:
            position_form = form
        status = 400
    positions = team.positions.annotate(
        holder_count=Count("holders", filter=Q(holders__status=User.Status.ACTIVE))
    ).order_by("name")
    members = team.members.filter(status=User.Status.ACTIVE).select_related("position")
    context = {
        "team": team,
        "positions": positions,
        "members": members[:50],
        "member_count": members.count(),
        "rename_form": rename_form,
        "position_form": position_form,
        "section": "teams",
    }
    return render(request, "progression/team.html", context, status=status)


@admin_required
@require_POST
def team_delete(request, pk):
    team = get_object_or_404(_teams(request), pk=pk)
    name = team.name
    team_services.team_delete(team=team, actor=request.user)
    messages.success(request, f"Team {name} was deleted.")
    return redirect("teams")


def _position(request, team_pk, pk) -> Position:
    return get_object_or_404(
        Position.objects.select_related("team"),
        pk=pk,
        team_id=team_pk,
        team__organization_id=request.user.organization_id,
    )


@admin_required
@require_POST
def position(request, team_pk, pk):
    """Rename a position."""
    position = _position(request, team_pk, pk)
    form = NameForm(request.POST)
    if form.is_valid():
        carried_out(
            request,
            "Position renamed.",
            team_services.position_rename,
            position=position,
            name=form.cleaned_data["name"],
            actor=request.user,
        )
    else:
        messages.error(request, NAME_REQUIRED)
    return redirect("team", pk=team_pk)


@admin_required
@require_POST
def position_delete(request, team_pk, pk):
    position = _position(request, team_pk, pk)
    name = position.name
    team_services.position_delete(position=position, actor=request.user)
    messages.success(request, f"Position {name} was deleted.")
    return redirect("team", pk=team_pk)
