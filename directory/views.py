"""The portal's Directory section: directories, their tokens, scope, log and users.

Admins only. Every lookup goes through the signed-in admin's organisation, so
another organisation's directory, user or request answers 404.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing.entitlements import entitlement
from directory import services, views_sync
from directory.guides import GUIDES, base_url_for
from directory.models import (
    HR_PROVIDERS,
    Directory,
    DirectoryGroup,
    DirectoryRequest,
    DirectoryUser,
    Provider,
)
from progression.access import admin_required
from progression.errors import ProgressionError
from progression.models import User
from progression.portal import carried_out

TOKEN_ROTATED = "A new token is active; the previous one no longer works."  # noqa: S105
DIRECTORY_DEACTIVATED = "The directory is deactivated; it refuses every request."
DIRECTORY_ACTIVATED = "The directory is active again."
SCOPE_SAVED = "Group scope saved."
PAGE_SIZE = 50


def _directories(request):
    return Directory.objects.filter(organization_id=request.user.organization_id)


def _directory(request, pk) -> Directory:
    return get_object_or_404(_directories(request), pk=pk)


@admin_required
def index(request):
    """The Directory section: where people are provisioned from."""
    directories = _directories(request).annotate(
        active_users=Count(
            "users",
            filter=Q(
                users__deleted_at__isnull=True, users__user__status=User.Status.ACTIVE
            ),
        )
    )
    context = {
        "section": "directory",
        "directories": directories,
        "providers": [c for c in Provider.choices if c[0] not in HR_PROVIDERS],
        "hr_providers": views_sync.hr_providers(),
        "entitlement": entitlement(request.user.organization_id),
    }
    return render(request, "directory/index.html", context)


def _token_page(request, directory, token, *, created):
    context = {
        "section": "directory",
        "directory": directory,
        "token": token,
        "created": created,
        "base_url": base_url_for(directory, settings.PUBLIC_BASE_URL),
        "guide": GUIDES[directory.provider],
    }
    return render(request, "directory/token.html", context)


@admin_required
@require_POST
def create(request):
    if request.POST.get("provider") in HR_PROVIDERS:
        # An HR system has credentials, not a SCIM token.
        return views_sync.create(request)
    answer = entitlement(request.user.organization_id)
    if not answer.available:
        messages.error(request, answer.message)
        return redirect("directory:index")
    try:
        directory, token = services.directory_create(
            organization=request.user.organization,
            provider=request.POST.get("provider", ""),
            name=request.POST.get("name", ""),
            actor=request.user,
        )
    except ProgressionError as exc:
        messages.error(request, exc.message)
        return redirect("directory:index")
    return _token_page(request, directory, token, created=True)


@admin_required
def detail(request, pk):
    directory = _directory(request, pk)
    if directory.is_pull:
        return views_sync.detail(request, pk)
    users = DirectoryUser.objects.filter(directory=directory, deleted_at__isnull=True)
    counts = users.aggregate(
        active=Count("pk", filter=Q(user__status=User.Status.ACTIVE)),
        archived=Count("pk", filter=Q(user__status=User.Status.ARCHIVED)),
        pending=Count("pk", filter=Q(user__isnull=True)),
    )
    context = {
        "section": "directory",
        "directory": directory,
        "counts": counts,
        "group_count": directory.groups.count(),
        "groups": directory.groups.order_by("display_name"),
        "scope_ids": set(directory.scope_groups.values_list("pk", flat=True)),
        "last_request": directory.requests.order_by("-id").first(),
        "base_url": base_url_for(directory, settings.PUBLIC_BASE_URL),
        "guide": GUIDES[directory.provider],
    }
    return render(request, "directory/detail.html", context)


@admin_required
@require_POST
def rotate(request, pk):
    directory = _directory(request, pk)
    token = services.directory_token_rotate(directory=directory, actor=request.user)
    messages.success(request, TOKEN_ROTATED)
    return _token_page(request, directory, token, created=False)


@admin_required
@require_POST
def state(request, pk):
    directory = _directory(request, pk)
    wanted = request.POST.get("state", "")
    if directory.is_pull and wanted == Directory.State.ACTIVE:
        # Activation tests the connection (and for Google needs its groups).
        return views_sync.activate(request, pk)
    carried_out(
        request,
        DIRECTORY_ACTIVATED
        if wanted == Directory.State.ACTIVE
        else DIRECTORY_DEACTIVATED,
        services.directory_state_set,
        directory=directory,
        state=wanted,
        actor=request.user,
    )
    return redirect("directory:detail", pk=directory.pk)


@admin_required
@require_POST
def scope(request, pk):
    directory = _directory(request, pk)
    ids = [value for value in request.POST.getlist("groups") if value.isdigit()]
    # Looked up through the directory: a group of another directory is ignored.
    groups = list(DirectoryGroup.objects.filter(directory=directory, pk__in=ids))
    services.directory_scope_set(directory=directory, groups=groups, actor=request.user)
    messages.success(request, SCOPE_SAVED)
    return redirect("directory:detail", pk=directory.pk)


@admin_required
def requests_log(request, pk):
    directory = _directory(request, pk)
    page = Paginator(
        DirectoryRequest.objects.filter(directory=directory).order_by("-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {"section": "directory", "directory": directory, "page": page}
    return render(request, "directory/requests.html", context)


@admin_required
def users(request, pk):
    directory = _directory(request, pk)
    rows = (
        DirectoryUser.objects.filter(directory=directory)
        .select_related("user")
        .order_by("user_name", "id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"section": "directory", "directory": directory, "page": page}
    return render(request, "directory/users.html", context)


@admin_required
def user_detail(request, pk, user_pk):
    directory = _directory(request, pk)
    record = get_object_or_404(
        DirectoryUser.objects.select_related("user"), directory=directory, pk=user_pk
    )
    context = {"section": "directory", "directory": directory, "record": record}
    return render(request, "directory/user.html", context)


@admin_required
def person_source(request, person_pk):
    """Where a person comes from: their directory records and raw attributes."""
    person = get_object_or_404(
        User.objects.filter(organization_id=request.user.organization_id),
        pk=person_pk,
    )
    records = (
        DirectoryUser.objects.filter(
            user=person, directory__organization=person.organization
        )
        .select_related("directory")
        .order_by("-id")
    )
    context = {"section": "people", "person": person, "records": records}
    return render(request, "directory/person_source.html", context)
