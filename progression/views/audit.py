"""The audit log: the organisation's events, filtered by action."""

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render

from progression.access import admin_required
from progression.models import AuditEvent
from progression.views._common import _filters_query


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
