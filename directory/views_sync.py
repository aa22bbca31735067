"""The portal's pages for HR directories: setup, syncs, history and approval.

Admins only. Every lookup goes through the signed-in admin's organisation
(directories first, then runs through their directory), so another
organisation's directory or sync run answers 404.
"""

import json

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing.entitlements import entitlement
from directory import sync
from directory.models import HR_PROVIDERS, Directory, DirectoryUser, Provider, SyncRun
from directory.sync.guides import HR_GUIDES, JSON, SECRET
from directory.tasks import sync_directory_task
from progression.access import admin_required
from progression.errors import ProgressionError
from progression.models import User
from progression.portal import carried_out

CONNECTION_OK = "The connection works: the provider accepted the credentials."
CREDENTIALS_SAVED = "Credentials saved. Test the connection before activating."
GROUPS_SAVED = "Groups saved."
SCHEDULE_SAVED = "Schedule and thresholds saved."
DIRECTORY_ACTIVATED = "The directory is active; the first sync starts now."
SYNC_STARTED = "Sync started."
SYNC_BUSY = "A sync of this directory is already running."
ARCHIVE_APPROVED = "Approved. A new sync archives the listed people."
JSON_INVALID = "{label} must be a JSON object."
NUMBER_INVALID = "Enter whole numbers."
HISTORY_SIZE = 20


def _directory(request, pk) -> Directory:
    """An HR directory of the admin's organisation, or 404."""
    return get_object_or_404(
        Directory.objects.filter(
            organization_id=request.user.organization_id, provider__in=HR_PROVIDERS
        ),
        pk=pk,
    )


def _run(request, pk, run_pk) -> SyncRun:
    return get_object_or_404(
        SyncRun.objects.filter(directory=_directory(request, pk)), pk=run_pk
    )


def _credentials_from(post, provider: str, stored: dict) -> dict:
    """The credentials typed in the form; a blank secret keeps the stored one."""
    credentials = {}
    for name, label, kind in HR_GUIDES[provider]["fields"]:
        value = post.get(name, "").strip()
        if not value:
            if kind == SECRET and name in stored:
                credentials[name] = stored[name]
            continue
        if kind == JSON:
            try:
                value = json.loads(value)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise ProgressionError(
                    JSON_INVALID.format(label=label), code="json_invalid"
                )
        credentials[name] = value
    return credentials


@admin_required
def create(request):
    """Connect an HR system: its guide and credentials; created inactive."""
    provider = request.POST.get("provider") or request.GET.get("provider", "")
    if provider not in HR_PROVIDERS:
        raise Http404
    answer = entitlement(request.user.organization_id)
    if not answer.available:
        messages.error(request, answer.message)
        return redirect("directory:index")
    if request.method == "POST":
        try:
            credentials = _credentials_from(request.POST, provider, {})
            directory = sync.pull_directory_create(
                organization=request.user.organization,
                provider=provider,
                name=request.POST.get("name", ""),
                credentials=credentials,
                base_url=request.POST.get("base_url", ""),
                actor=request.user,
            )
        except ProgressionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, CREDENTIALS_SAVED)
            return redirect("directory:detail", pk=directory.pk)
    context = {
        "section": "directory",
        "provider": provider,
        "provider_label": Provider(provider).label,
        "guide": HR_GUIDES[provider],
        "fields": _fields(provider, request.POST),
        "base_url": request.POST.get("base_url", ""),
        "name": request.POST.get("name", ""),
    }
    return render(request, "directory/hr_new.html", context)


@admin_required
def detail(request, pk):
    """An HR directory: state, setup, schedule, the running sync and history."""
    directory = _directory(request, pk)
    counts = DirectoryUser.objects.filter(
        directory=directory, deleted_at__isnull=True
    ).aggregate(
        active=Count("pk", filter=Q(user__status=User.Status.ACTIVE)),
        archived=Count("pk", filter=Q(user__status=User.Status.ARCHIVED)),
        pending=Count("pk", filter=Q(user__isnull=True)),
    )
    runs = list(directory.sync_runs.order_by("-id")[:HISTORY_SIZE])
    stored = directory.credentials_data
    context = {
        "section": "directory",
        "directory": directory,
        "counts": counts,
        "runs": runs,
        "running": next((r for r in runs if r.state == SyncRun.State.RUNNING), None),
        "held": next(
            (r for r in runs if r.state == SyncRun.State.AWAITING_APPROVAL), None
        ),
        "guide": HR_GUIDES[directory.provider],
        "fields": _fields(
            directory.provider,
            {name: _shown(value) for name, value in stored.items()},
        ),
        "entitlement": entitlement(directory.organization_id),
        "is_google": directory.provider == Provider.GOOGLE_WORKSPACE,
        "chosen_groups": {group["id"] for group in directory.sync_groups},
    }
    return render(request, "directory/hr_detail.html", context)


def _fields(provider: str, values) -> list[tuple[str, str, str, str]]:
    """The provider's credential fields with what to show in each; never a secret."""
    return [
        (name, label, kind, "" if kind == SECRET else values.get(name, ""))
        for name, label, kind in HR_GUIDES[provider]["fields"]
    ]


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "private_key" in value:
            # A key is a secret however it is shaped.
            return ""
        return json.dumps(value)
    return str(value)


@admin_required
@require_POST
def credentials(request, pk):
    directory = _directory(request, pk)
    try:
        credentials = _credentials_from(
            request.POST, directory.provider, directory.credentials_data
        )
    except ProgressionError as exc:
        messages.error(request, exc.message)
        return redirect("directory:detail", pk=directory.pk)
    carried_out(
        request,
        CREDENTIALS_SAVED,
        sync.pull_directory_credentials_set,
        directory=directory,
        credentials=credentials,
        base_url=request.POST.get("base_url", ""),
        actor=request.user,
    )
    return redirect("directory:detail", pk=directory.pk)


@admin_required
@require_POST
def test(request, pk):
    directory = _directory(request, pk)
    carried_out(request, CONNECTION_OK, sync.pull_directory_test, directory=directory)
    return redirect("directory:detail", pk=directory.pk)


@admin_required
def groups(request, pk):
    """The Google group picker: the customer's groups, the chosen ones ticked."""
    directory = _directory(request, pk)
    if directory.provider != Provider.GOOGLE_WORKSPACE:
        raise Http404
    if request.method == "POST":
        try:
            sync.pull_directory_groups_set(
                directory=directory,
                group_ids=request.POST.getlist("groups"),
                actor=request.user,
            )
        except ProgressionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, GROUPS_SAVED)
            return redirect("directory:detail", pk=directory.pk)
    try:
        available = sync.pull_directory_groups_list(directory=directory)
    except ProgressionError as exc:
        messages.error(request, exc.message)
        return redirect("directory:detail", pk=directory.pk)
    context = {
        "section": "directory",
        "directory": directory,
        "available": available,
        "chosen": {group["id"] for group in directory.sync_groups},
    }
    return render(request, "directory/hr_groups.html", context)


@admin_required
@require_POST
def activate(request, pk):
    directory = _directory(request, pk)
    answer = entitlement(directory.organization_id)
    if not answer.available:
        messages.error(request, answer.message)
        return redirect("directory:detail", pk=directory.pk)
    try:
        sync.pull_directory_activate(directory=directory, actor=request.user)
    except ProgressionError as exc:
        messages.error(request, exc.message)
        return redirect("directory:detail", pk=directory.pk)
    messages.success(request, DIRECTORY_ACTIVATED)
    return _start(request, directory)


@admin_required
@require_POST
def schedule(request, pk):
    directory = _directory(request, pk)
    try:
        numbers = [
            int(request.POST.get(name, ""))
            for name in ("interval", "threshold_percent", "threshold_people")
        ]
    except ValueError:
        messages.error(request, NUMBER_INVALID)
        return redirect("directory:detail", pk=directory.pk)
    carried_out(
        request,
        SCHEDULE_SAVED,
        sync.pull_directory_schedule_set,
        directory=directory,
        interval_minutes=numbers[0],
        threshold_percent=numbers[1],
        threshold_people=numbers[2],
        actor=request.user,
    )
    return redirect("directory:detail", pk=directory.pk)


@admin_required
@require_POST
def sync_now(request, pk):
    directory = _directory(request, pk)
    answer = entitlement(directory.organization_id)
    if not answer.available:
        messages.error(request, answer.message)
        return redirect("directory:detail", pk=directory.pk)
    return _start(request, directory)


def _start(request, directory: Directory):
    """Open a run now, so its page shows progress at once; a worker runs it."""
    run = sync.sync_start(directory=directory, trigger=SyncRun.Trigger.MANUAL)
    if run is None:
        messages.error(request, SYNC_BUSY)
        return redirect("directory:detail", pk=directory.pk)
    _enqueue(run)
    messages.success(request, SYNC_STARTED)
    return redirect("directory:sync-run", pk=directory.pk, run_pk=run.pk)


def _enqueue(run: SyncRun) -> None:
    transaction.on_commit(
        lambda: sync_directory_task.delay(run.directory_id, run.trigger, run.pk)
    )


@admin_required
def run_detail(request, pk, run_pk):
    """One sync: its counts, errors and, while it runs, its progress."""
    run = _run(request, pk, run_pk)
    context = {"section": "directory", "directory": run.directory, "run": run}
    return render(request, "directory/sync_run.html", context)


@admin_required
def run_progress(request, pk, run_pk):
    """A running sync's counters, for the page to poll."""
    run = _run(request, pk, run_pk)
    return JsonResponse(
        {
            "state": run.state,
            "phase": run.phase,
            "fetched": run.fetched,
            "processed": run.processed,
            "created": run.created,
            "updated": run.updated,
            "archived": run.archived,
            "reactivated": run.reactivated,
            "unchanged": run.unchanged,
        }
    )


@admin_required
def approve(request, pk, run_pk):
    """A held mass archive: who would be archived, and the button to approve."""
    run = _run(request, pk, run_pk)
    if request.method == "POST":
        try:
            approval = sync.sync_run_approve(run=run, actor=request.user)
        except ProgressionError as exc:
            messages.error(request, exc.message)
            return redirect("directory:sync-run", pk=pk, run_pk=run.pk)
        _enqueue(approval)
        messages.success(request, ARCHIVE_APPROVED)
        return redirect("directory:sync-run", pk=pk, run_pk=approval.pk)
    context = {
        "section": "directory",
        "directory": run.directory,
        "run": run,
        "waiting": run.state == SyncRun.State.AWAITING_APPROVAL,
    }
    return render(request, "directory/sync_approve.html", context)


def hr_providers():
    """The HR systems the index page offers, in the order of `Provider`."""
    return [
        (value, label) for value, label in Provider.choices if value in HR_PROVIDERS
    ]
