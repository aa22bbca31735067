"""The Billing section: plan, seats, the entitlement and the bolt-on.

Everything here is scoped to the signed-in admin's organisation; nothing is
looked up from the request body or the URL.
"""

import logging

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing.entitlements import entitlement
from billing.models import BillingChange, BoltOnPurchase, Subscription
from billing.services.bolt_on import bolt_on_purchase
from billing.terms import human_date, state_at
from progression.access import admin_required
from progression.models import User
from progression.portal import carried_out

logger = logging.getLogger(__name__)

BOLT_ON_ADDED = "The SSO & Directory Sync bolt-on was added. It runs until {date}."
HISTORY_LIMIT = 50


@admin_required
def index(request):
    """The plan, period, seats, seats in use, entitlement, bolt-on and history."""
    organization_id = request.user.organization_id
    now = timezone.now()
    subscription = Subscription.objects.filter(organization_id=organization_id).first()
    state = state_at(subscription, now) if subscription is not None else None
    seats_in_use = User.objects.filter(
        organization_id=organization_id, status=User.Status.ACTIVE
    ).count()
    context = {
        "section": "billing",
        "subscription": subscription,
        "state": state,
        "seats_in_use": seats_in_use,
        "over_seats": state is not None and seats_in_use > state.seats,
        "entitlement": entitlement(organization_id, at=now),
        "purchases": BoltOnPurchase.objects.filter(organization_id=organization_id),
        "changes": BillingChange.objects.filter(organization_id=organization_id)[
            :HISTORY_LIMIT
        ],
    }
    return render(request, "billing/index.html", context)


@admin_required
@require_POST
def bolt_on_add(request):
    """Buy the bolt-on for the admin's own organisation."""
    carried_out(
        request,
        lambda purchase: BOLT_ON_ADDED.format(date=human_date(purchase.term_end)),
        bolt_on_purchase,
        organization=request.user.organization,
        actor=request.user,
    )
    return redirect("billing:index")
