"""Which HR directories are due for a scheduled sync."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from directory.models import HR_PROVIDERS, Directory


def sync_due_claim(*, now=None) -> list[int]:
    """Claim the active HR directories whose next sync time has come.

    Each claimed directory's next sync moves one interval ahead in the same
    statement that claims it, so two schedulers never claim one directory
    twice for the same slot.
    """
    now = now or timezone.now()
    due = Directory.objects.filter(
        provider__in=HR_PROVIDERS, state=Directory.State.ACTIVE
    ).filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
    claimed = []
    for pk, next_sync_at, minutes in due.values_list(
        "pk", "next_sync_at", "sync_interval_minutes"
    ):
        won = Directory.objects.filter(pk=pk, next_sync_at=next_sync_at).update(
            next_sync_at=now + timedelta(minutes=minutes)
        )
        if won:
            claimed.append(pk)
    return claimed
