"""The People page and each person's page: add, edit, archive, reactivate."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from progression.access import admin_required
from progression.errors import ProgressionError
from progression.forms import ArchiveForm, PersonForm
from progression.models import Position, User
from progression.portal import carried_out
from progression.services.people import (
    user_archive,
    user_create,
    user_reactivate,
    user_update,
)
from progression.views._common import (
    _filters_query,
    _people,
    _render_person,
    _teams,
    _teams_with_positions,
)

MANAGER_NOT_FOUND = "No one in your organisation has that manager email."


@admin_required
def people(request):
    """The People page: search, filter by status and team, paginated.

    The number of queries is the same whatever the organisation's size: the
    session and user, the teams for the filter, the count and the page.
    """
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "active")
    team_id = request.GET.get("team", "")

    rows = _people(request).select_related("team", "position", "manager")
    if status in User.Status.values:
        rows = rows.filter(status=status)
    else:
        status = "all"
    if team_id == "none":
        rows = rows.filter(team__isnull=True)
    elif team_id.isdigit():
        rows = rows.filter(team_id=int(team_id))
    else:
        team_id = ""
    for term in query.split()[:5]:
        rows = rows.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
        )
    rows = rows.order_by("last_name", "first_name", "id")

    page = Paginator(rows, settings.PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {"q": query, "status": status, "team": team_id}
    return render(
        request,
        "progression/people.html",
        {
            "page": page,
            "teams": _teams(request).only("id", "name"),
            "filters": filters,
            "query_string": _filters_query(filters),
            "section": "people",
        },
    )


def _apply_person_form(request, form, person: User | None) -> User | None:
    """Turn a valid person form into a create or update; None if refused."""
    data = form.cleaned_data
    team = position = manager = None
    if data["team"] is not None:
        team = _teams(request).filter(pk=data["team"]).first()
    if data["position"] is not None:
        position = Position.objects.filter(
            pk=data["position"], team__organization_id=request.user.organization_id
        ).first()
    if data["manager_email"]:
        manager = _people(request).filter(email__iexact=data["manager_email"]).first()
        if manager is None:
            form.add_error("manager_email", MANAGER_NOT_FOUND)
            return None
    fields = {
        "email": data["email"],
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "role": data["role"],
        "team": team,
        "position": position,
        "manager": manager,
    }
    try:
        if person is None:
            return user_create(
                organization=request.user.organization, actor=request.user, **fields
            )
        return user_update(user=person, actor=request.user, **fields)
    except ProgressionError as exc:
        form.add_error(None, exc.message)
        return None


@admin_required
@require_http_methods(["GET", "POST"])
def person_new(request):
    teams = list(_teams_with_positions(request))
    form = PersonForm(request.POST or None, teams=teams, initial={"role": "member"})
    if request.method == "POST" and form.is_valid():
        person = _apply_person_form(request, form, None)
        if person is not None:
            messages.success(request, f"{person} was added.")
            return redirect("person", pk=person.pk)
    return render(
        request, "progression/person_new.html", {"form": form, "section": "people"}
    )


@login_required
@require_http_methods(["GET", "POST"])
def person(request, pk):
    """A person's page; admins may edit it, members see only their own."""
    if not request.user.is_admin and pk != request.user.pk:
        raise Http404
    person = get_object_or_404(
        _people(request).select_related("team", "position", "manager"), pk=pk
    )
    if request.method == "POST":
        if not request.user.is_admin:
            raise Http404
        teams = list(_teams_with_positions(request))
        form = PersonForm(request.POST, teams=teams)
        if form.is_valid() and _apply_person_form(request, form, person):
            messages.success(request, "Changes saved.")
            return redirect("person", pk=person.pk)
        return _render_person(request, person, form=form, status=400)
    return _render_person(request, person)


@admin_required
@require_POST
def person_archive(request, pk):
    person = get_object_or_404(_people(request), pk=pk)
    form = ArchiveForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    carried_out(
        request,
        f"{person} was archived.",
        user_archive,
        user=person,
        reason=reason or "Archived by an admin",
        actor=request.user,
    )
    return redirect("person", pk=person.pk)


@admin_required
@require_POST
def person_reactivate(request, pk):
    person = get_object_or_404(_people(request), pk=pk)
    user_reactivate(user=person, actor=request.user)
    messages.success(request, f"{person} is active again.")
    return redirect("person", pk=person.pk)
