"""The home page: an admin's dashboard, a member's own profile."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from progression.models import AuditEvent, User
from progression.views._common import _people, _render_person, _teams


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
