"""Link resolution: each synced person's manager, team and position.

Provisioning stores what the directory sends as raw references on the
directory user (`manager_ref`, `department`, `title`); this module turns them
into links on the person, for a whole organisation or for the people around a
set of changed ones, in a fixed number of set-based SQL statements whatever
the number of people:

1. the people in scope, into a temporary table;
2. the links each of them should have, with the reason when a reference
   matches nothing;
3. management loops the new links would close, which are not applied;
4. one UPDATE of the people whose links change, one INSERT of an audit event
   for each of them, and the organisation's open issues brought up to date.

The rules:

- Only people with a live directory record are resolved, and only while they
  are active; people added by hand, and archived people, keep their links.
- Manager: the reference names, in this order, a directory user of the same
  directory by the SCIM id we issued, a directory user of the same directory
  by the directory's own id (`externalId`, an HR system's employee id), or a
  person of the same organisation by email, ignoring case. Nothing else can
  match, so a reference never crosses directories or organisations. An empty
  reference clears the link. A reference that matches no active person, that
  matches the person themself, or that would close a loop leaves the link
  as it is and is recorded as an issue.
- Team: the department, matched to a team of the organisation ignoring case
  and surrounding whitespace. Position: the title, matched the same way to a
  position of the person's team (the new one when the team changes). An
  empty department or title leaves the link as it is. A value that matches
  nothing leaves the link as it is and is recorded as an issue, except that a
  position never stays behind in a team the person left.

Each run ends with the same links whatever order the changes arrived in, and
running it again changes nothing. Everything happens in one transaction that
holds a per-organisation lock, so two runs for one organisation never
overlap, and a run cut short changes nothing.
"""

import dataclasses
import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from directory import links_statements as statements
from directory.links_statements import AUDIT_ACTION
from directory.models_links import LinkStatus
from progression.errors import ProgressionError
from progression.models import Organization

logger = logging.getLogger(__name__)

__all__ = [
    "AUDIT_ACTION",
    "LINKS_BUSY",
    "LOCK_NAMESPACE",
    "LinkResolution",
    "LinksBusyError",
    "links_lock",
    "links_resolve",
]

LINKS_BUSY = "Links of this organisation are being resolved by another run."
# First key of the PostgreSQL advisory lock; the second is the organisation.
LOCK_NAMESPACE = 7_306_211


class LinksBusyError(ProgressionError):
    """Another run holds the organisation's lock; try again shortly."""

    code = "links_busy"


@dataclasses.dataclass(frozen=True)
class LinkResolution:
    """What one run did."""

    organization_id: int
    full: bool
    people: int
    changed: int
    issues: int
    duration_ms: int


def links_lock(organization_id: int) -> bool:
    """Take the organisation's lock until the transaction ends, if it is free."""
    if connection.vendor != "postgresql":
        # The embedded default runs tasks in-process, one at a time.
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            [LOCK_NAMESPACE, organization_id],
        )
        return bool(cursor.fetchone()[0])


def _status_record(resolution: LinkResolution, now) -> None:
    status, _ = LinkStatus.objects.get_or_create(
        organization_id=resolution.organization_id
    )
    status.resolved_at = now
    status.runs += 1
    status.last_people = resolution.people
    status.last_changed = resolution.changed
    status.last_duration_ms = resolution.duration_ms
    status.save()


def links_resolve(*, organization: Organization, user_ids=None) -> LinkResolution:
    """Link people to their manager, team and position as their directory says.

    With `user_ids`, only the people whose links those changes can affect are
    resolved; without, the whole organisation. Raises `LinksBusyError` when
    another run for the organisation is in progress.
    """
    started = time.perf_counter()
    full = user_ids is None

    with transaction.atomic():
        if not links_lock(organization.pk):
            raise LinksBusyError(LINKS_BUSY)
        now = timezone.now()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Compiling these one-off statements costs more than it saves.
                cursor.execute("SET LOCAL jit = off")
            statements.drop_temp_tables(cursor)
            statements.covered_create(cursor, organization.pk, user_ids)
            people = statements.scope_create(cursor, organization.pk)
            statements.desired_create(cursor, organization.pk)
            statements.loops_refuse(cursor)
            changed = statements.changes_apply(cursor, organization.pk, now)
            issues = statements.issues_replace(cursor, organization.pk, now)
            statements.drop_temp_tables(cursor)
        resolution = LinkResolution(
            organization_id=organization.pk,
            full=full,
            people=people,
            changed=changed,
            issues=issues,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
        _status_record(resolution, now)

    logger.info(
        "links resolved: %s people, %s changed, %s issues",
        people,
        changed,
        issues,
        extra={"organization_id": organization.pk, "full": full},
    )
    return resolution
