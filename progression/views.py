"""The portal shell: sign-in, people, teams, positions and the audit log.

Every query here is scoped to the signed-in person's organisation; an object of
another organisation is looked up through that scope and so answers 404.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from progression import services
from progression import signin as signin_registry
from progression.access import admin_required
from progression.errors import ProgressionError
from progression.forms import (
    ArchiveForm,
    EmailForm,
    NameForm,
    PasswordSignInForm,
    PersonForm,
)
from progression.models import AuditEvent, Position, Team, User

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

SIGNIN_FAILED = "That email and password do not match an active account."
SSO_REQUIRED = (
    "Your organisation signs in with single sign-on. Go back and continue with "
    "your work email to be sent to your identity provider."
)
MANAGER_NOT_FOUND = "No one in your organisation has that manager email."


def _next_url(request) -> str:
    """The page to land on after sign-in: a same-site path, else home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _people(request):
    return User.objects.filter(organization_id=request.user.organization_id)


def _teams(request):
    return Team.objects.filter(organization_id=request.user.organization_id)


@login_required
def home(request):
    """An admin's dashboard; a member's own profile."""
    if not request.user.is_admin:
        return _render_person(request, request.user)
    people = _people(request)
    counts = people.aggregate(
        active=Count("pk", filter=Q(status=User.Status.ACTIVE)),
        archived=Count("pk", filter=Q(status=User.Status.ARCHIVED)),
        from_directory=Count(
            "pk", filter=Q(source=User.Source.DIRECTORY, status=User.Status.ACTIVE)
        ),
        without_team=Count(
            "pk", filter=Q(team__isnull=True, status=User.Status.ACTIVE)
        ),
    )
    context = {
        "counts": counts,
        "team_count": _teams(request).count(),
        "recent_events": AuditEvent.objects.filter(
            organization_id=request.user.organization_id
        ).select_related("actor")[:8],
        "section": "home",
    }
    return render(request, "progression/dashboard.html", context)


@require_http_methods(["GET", "POST"])
def signin(request):
    """Ask for an email, then send the person to their IdP or to a password form."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = EmailForm(request.POST or None, initial={"email": request.GET.get("email")})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        url = signin_registry.discover(request, email)
        if url:
            return HttpResponseRedirect(url)
        query = {"email": email}
        next_url = request.POST.get("next")
        if next_url:
            query["next"] = next_url
        return redirect(_with_query(reverse("signin-password"), query))
    return render(
        request,
        "progression/signin.html",
        {"form": form, "next": request.GET.get("next", "")},
    )


def _with_query(url: str, query: dict) -> str:
    return f"{url}?{urlencode(query)}"


@require_http_methods(["GET", "POST"])
def signin_password(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = PasswordSignInForm(
        request.POST or None, initial={"email": request.GET.get("email", "")}
    )
    error = None
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
        )
        if user is not None and signin_registry.password_allowed(user):
            login(request, user)
            return HttpResponseRedirect(_next_url(request))
        if user is not None:
            security_logger.warning(
                "password sign-in refused: sso required", extra={"user_id": user.pk}
            )
            error = SSO_REQUIRED
        else:
            security_logger.warning("password sign-in refused")
            error = SIGNIN_FAILED
    return render(
        request,
        "progression/signin_password.html",
        {
            "form": form,
            "error": error,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=401 if error else 200,
    )


@require_POST
def signout(request):
    """End the session, then go where a sign-in app says (an IdP's logout)."""
    try:
        next_url = signin_registry.signout_continue(request)
    finally:
        # Whatever a step does, the session ends.
        logout(request)
    return redirect(next_url or "signin")


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
            return services.user_create(
                organization=request.user.organization, actor=request.user, **fields
            )
        return services.user_update(user=person, actor=request.user, **fields)
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


@admin_required
@require_POST
def person_archive(request, pk):
    person = get_object_or_404(_people(request), pk=pk)
    form = ArchiveForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.user_archive(
            user=person, reason=reason or "Archived by an admin", actor=request.user
        )
        messages.success(request, f"{person} was archived.")
    except ProgressionError as exc:
        messages.error(request, exc.message)
    return redirect("person", pk=person.pk)


@admin_required
@require_POST
def person_reactivate(request, pk):
    person = get_object_or_404(_people(request), pk=pk)
    services.user_reactivate(user=person, actor=request.user)
    messages.success(request, f"{person} is active again.")
    return redirect("person", pk=person.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def teams(request):
    form = NameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(
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
                services.team_rename(
                    team=team, name=form.cleaned_data["name"], actor=request.user
                )
                messages.success(request, "Team renamed.")
                return redirect("team", pk=team.pk)
            if action == "position" and form.is_valid():
                position = services.position_create(
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
    services.team_delete(team=team, actor=request.user)
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
        try:
            services.position_rename(
                position=position, name=form.cleaned_data["name"], actor=request.user
            )
            messages.success(request, "Position renamed.")
        except ProgressionError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, services.NAME_REQUIRED)
    return redirect("team", pk=team_pk)


@admin_required
@require_POST
def position_delete(request, team_pk, pk):
    position = _position(request, team_pk, pk)
    name = position.name
    services.position_delete(position=position, actor=request.user)
    messages.success(request, f"Position {name} was deleted.")
    return redirect("team", pk=team_pk)


@admin_required
def audit(request):
    events = AuditEvent.objects.filter(
        organization_id=request.user.organization_id
    ).select_related("actor")
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, settings.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "progression/audit.html",
        {
            "page": page,
            "action": action,
            "query_string": _filters_query({"action": action}),
            "section": "audit",
        },
    )
