"""The archiving safeguard: a run that would archive too many people holds.

Above the directory's threshold (a share of its active people, or a number of
people; either is enough) the run archives no one and keeps the list of who
would go, for an admin to approve.
"""

import logging

from progression.models import User

logger = logging.getLogger(__name__)

HELD_FOR_APPROVAL = (
    "This sync would archive %(count)s of %(active)s active people, above the "
    "directory's threshold; no one was archived. An admin can approve it."
)


def hold_check(run, directory, live, listed, listed_inactive) -> set[int]:
    """The directory users whose archiving waits for approval (empty: none wait)."""
    leaving = live.filter(user__status=User.Status.ACTIVE).filter(
        ~listed | listed_inactive
    )
    approved = set()
    if run.approves_id is not None:
        approved = {
            entry["directory_user_id"] for entry in run.approves.pending_archive
        }
        leaving = leaving.exclude(pk__in=approved)
    # Counted as two joins the database can hash; the list is read only when
    # the run is held.
    active_live = live.filter(user__status=User.Status.ACTIVE)
    if run.approves_id is not None:
        active_live = active_live.exclude(pk__in=approved)
    count = (
        active_live.filter(~listed).count()
        + active_live.filter(listed_inactive).count()
    )
    if not count:
        return set()
    active = live.filter(user__status=User.Status.ACTIVE).count()
    over_share = count * 100 > active * directory.archive_threshold_percent
    if not over_share and count <= directory.archive_threshold_people:
        return set()

    run.pending_archive = [
        {
            "directory_user_id": pk,
            "user_id": user_id,
            "email": email,
            "name": f"{first} {last}".strip(),
        }
        for pk, user_id, email, first, last in leaving.order_by(
            "user__last_name", "user__first_name", "pk"
        ).values_list(
            "pk", "user_id", "user__email", "user__first_name", "user__last_name"
        )
    ]
    run.error_code = "archive_held"
    run.error_message = HELD_FOR_APPROVAL % {"count": count, "active": active}
    logger.warning(
        "sync archive held for approval: %s of %s",
        count,
        active,
        extra={"directory_id": directory.pk, "sync_run_id": run.pk},
    )
    return {entry["directory_user_id"] for entry in run.pending_archive}
