from django.shortcuts import render

from progression.access import admin_required
from progression.models import User


@admin_required
def index(request):
    """The Billing section: the plan and the seats in use."""
    seats_in_use = User.objects.filter(
        organization_id=request.user.organization_id, status=User.Status.ACTIVE
    ).count()
    return render(
        request,
        "billing/index.html",
        {"section": "billing", "seats_in_use": seats_in_use},
    )
