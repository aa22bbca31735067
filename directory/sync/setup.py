"""Setting up an HR directory: credentials, base URL, groups, schedule, approval.

An HR directory is created inactive. Before it is activated its connection is
tested, and for Google Workspace the groups to sync are chosen; only then do
scheduled syncs start. Credentials are stored encrypted
(`progression.crypto`) and never shown again in full.
"""

import json
import logging
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from directory.connectors import Group, connector_build
from directory.models import HR_PROVIDERS, Directory, Provider, SyncRun
from directory.sync.fetch import connector_for
from directory.sync.run import sync_start
from progression.errors import ConflictError, ValidationFailedError
from progression.models import Organization
from progression.services.audit import Actor, audit_record

logger = logging.getLogger(__name__)

PROVIDER_NOT_HR = "Choose one of the listed HR systems."
BASE_URL_INVALID = "Enter an API root such as https://api.example.com, or nothing."
GROUPS_REQUIRED = "Choose at least one group to sync before activating."
GROUPS_NOT_GOOGLE = "Only Google Workspace directories sync chosen groups."
GROUP_UNKNOWN = "That group is not in the directory's Google Workspace."
INTERVAL_INVALID = "Sync every 15 to 10,080 minutes (a week)."
THRESHOLD_INVALID = "Thresholds are a share from 1 to 100 and at least one person."
APPROVAL_STALE = "This sync is no longer waiting for approval."
MIN_INTERVAL, MAX_INTERVAL = 15, 7 * 24 * 60


def _check_credentials(provider: str, credentials, base_url: str) -> None:
    """Refuse credentials the provider's connector cannot work with."""
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise ValidationFailedError(BASE_URL_INVALID, code="base_url_invalid")
    # Building the connector checks every required field; it makes no call.
    connector_build(
        provider=provider, credentials=credentials, base_url=base_url or None
    ).close()


def pull_directory_create(
    *,
    organization: Organization,
    provider: str,
    credentials: dict,
    name: str = "",
    base_url: str = "",
    actor: Actor,
) -> Directory:
    """Create an HR directory, inactive until its connection is tested."""
    if provider not in HR_PROVIDERS:
        raise ValidationFailedError(PROVIDER_NOT_HR, code="provider_unknown")
    base_url = (base_url or "").strip()
    _check_credentials(provider, credentials, base_url)
    name = " ".join((name or "").split()) or Provider(provider).label

    with transaction.atomic():
        directory = Directory.objects.create(
            organization=organization,
            provider=provider,
            name=name[:200],
            state=Directory.State.INACTIVE,
            credentials=json.dumps(credentials),
            api_base_url=base_url,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="directory.created",
            target=directory,
            after={"provider": provider, "name": directory.name},
        )
    logger.info("directory created", extra={"directory_id": directory.pk})
    return directory


def pull_directory_credentials_set(
    *, directory: Directory, credentials: dict, base_url: str = "", actor: Actor
) -> Directory:
    """Replace an HR directory's credentials and base URL; secrets are not logged."""
    base_url = (base_url or "").strip()
    _check_credentials(directory.provider, credentials, base_url)

    with transaction.atomic():
        directory.credentials = json.dumps(credentials)
        directory.api_base_url = base_url
        directory.save(update_fields=["credentials", "api_base_url"])
        audit_record(
            organization=directory.organization,
            actor=actor,
            action="directory.credentials_changed",
            target=directory,
            after={"base_url": base_url, "fields": sorted(credentials)},
        )
    return directory


def pull_directory_test(*, directory: Directory) -> None:
    """One cheap authenticated call to the provider; raises `ConnectorError`."""
    with connector_for(directory) as connector:
        connector.test()


def pull_directory_groups_list(*, directory: Directory) -> list[Group]:
    """The Google Workspace groups an admin can choose from."""
    if directory.provider != Provider.GOOGLE_WORKSPACE:
        raise ValidationFailedError(GROUPS_NOT_GOOGLE, code="groups_not_google")
    with connector_for(directory) as connector:
        return connector.groups()


def pull_directory_groups_set(
    *, directory: Directory, group_ids: list[str], actor: Actor
) -> Directory:
    """Choose the Google Workspace groups whose members are provisioned.

    Groups are named by id or email, and checked against the customer's
    groups as Google lists them now.
    """
    available = {}
    for group in pull_directory_groups_list(directory=directory):
        available[group.id] = available[group.email.lower()] = group
    keys = [str(key).strip() for key in group_ids]
    if any(key not in available and key.lower() not in available for key in keys):
        raise ValidationFailedError(GROUP_UNKNOWN, code="group_unknown")
    picked = {}
    for key in keys:
        group = available.get(key) or available[key.lower()]
        picked[group.id] = {"id": group.id, "email": group.email, "name": group.name}
    chosen = list(picked.values())

    with transaction.atomic():
        before = [group["email"] for group in directory.sync_groups]
        directory.sync_groups = chosen
        directory.save(update_fields=["sync_groups"])
        audit_record(
            organization=directory.organization,
            actor=actor,
            action="directory.groups_changed",
            target=directory,
            before={"groups": before},
            after={"groups": [group["email"] for group in chosen]},
        )
    return directory


def pull_directory_activate(*, directory: Directory, actor: Actor) -> Directory:
    """Test the connection and start scheduled syncs; the first is due at once.

    Google Workspace needs its groups chosen first: without them every user
    of the domain would be out of scope.
    """
    if directory.provider == Provider.GOOGLE_WORKSPACE and not directory.sync_groups:
        raise ValidationFailedError(GROUPS_REQUIRED, code="groups_required")
    pull_directory_test(directory=directory)

    with transaction.atomic():
        before = directory.state
        directory.state = Directory.State.ACTIVE
        directory.attention_message = ""
        directory.next_sync_at = timezone.now()
        directory.save(update_fields=["state", "attention_message", "next_sync_at"])
        audit_record(
            organization=directory.organization,
            actor=actor,
            action="directory.state_changed",
            target=directory,
            before={"state": before},
            after={"state": directory.state},
        )
    return directory


def pull_directory_schedule_set(
    *,
    directory: Directory,
    interval_minutes: int,
    threshold_percent: int,
    threshold_people: int,
    actor: Actor,
) -> Directory:
    """Change how often the directory syncs and when an archive waits for approval."""
    if not MIN_INTERVAL <= interval_minutes <= MAX_INTERVAL:
        raise ValidationFailedError(INTERVAL_INVALID, code="interval_invalid")
    if not 1 <= threshold_percent <= 100 or threshold_people < 1:
        raise ValidationFailedError(THRESHOLD_INVALID, code="threshold_invalid")

    fields = {
        "sync_interval_minutes": interval_minutes,
        "archive_threshold_percent": threshold_percent,
        "archive_threshold_people": threshold_people,
    }
    with transaction.atomic():
        before = {name: getattr(directory, name) for name in fields}
        for name, value in fields.items():
            setattr(directory, name, value)
        directory.save(update_fields=list(fields))
        audit_record(
            organization=directory.organization,
            actor=actor,
            action="directory.schedule_changed",
            target=directory,
            before=before,
            after=fields,
        )
    return directory


def sync_run_approve(*, run: SyncRun, actor: Actor) -> SyncRun:
    """Approve a held mass archive: a new run may archive the listed people.

    The new run reads the directory again, so someone listed who came back
    in the meantime is not archived.
    """
    with transaction.atomic():
        held = SyncRun.objects.select_for_update().get(pk=run.pk)
        newest = (
            SyncRun.objects.filter(directory_id=held.directory_id)
            .exclude(state=SyncRun.State.SKIPPED)
            .order_by("-id")
            .first()
        )
        if held.state != SyncRun.State.AWAITING_APPROVAL or newest.pk != held.pk:
            raise ConflictError(APPROVAL_STALE, code="approval_stale")
        held.approved_by = actor if not isinstance(actor, str) else None
        held.approved_at = timezone.now()
        held.state = SyncRun.State.SUPERSEDED
        held.save(update_fields=["approved_by", "approved_at", "state"])
        audit_record(
            organization=held.directory.organization,
            actor=actor,
            action="directory.archive_approved",
            target=held.directory,
            after={"sync_run": held.pk, "people": len(held.pending_archive)},
        )
        approval = sync_start(
            directory=held.directory, trigger=SyncRun.Trigger.APPROVAL, approves=held
        )
        if approval is None:
            raise ConflictError(APPROVAL_STALE, code="approval_stale")
    return approval
