from dataclasses import asdict

from django.core.management import CommandError
from django.db import transaction
from django.utils import timezone

from billing.entitlements import BOLT_ON, entitlement
from billing.models import BoltOnPurchase, Period, Plan
from billing.services.bolt_on import BOLT_ON_NEEDS_ANNUAL, bolt_on_purchase
from billing.services.subscriptions import subscription_set
from billing.terms import state_at
from progression.management.base import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Set an organisation's plan, period and seats, optionally with the SSO & "
        "Directory Sync bolt-on, and print the resulting entitlement."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("slug")
        parser.add_argument("--plan", required=True, choices=Plan.values)
        parser.add_argument("--period", required=True, choices=Period.values)
        parser.add_argument("--seats", required=True, type=int)
        parser.add_argument(
            "--bolt-on",
            action="store_true",
            dest="bolt_on",
            help="buy the bolt-on for the current annual term (kept if active)",
        )

    def run(self, *, slug, plan, period, seats, bolt_on, **options):
        organization = self.organization(slug)
        if bolt_on and period == Period.MONTHLY:
            # A switch to monthly may be scheduled rather than immediate, but
            # the plan asked for cannot carry the bolt-on either way.
            raise CommandError(BOLT_ON_NEEDS_ANNUAL)
        now = timezone.now()
        # The plan and the bolt-on are one change: a refused bolt-on leaves the
        # plan as it was.
        with transaction.atomic():
            subscription = subscription_set(
                organization=organization,
                plan=plan,
                period=period,
                seats=seats,
                actor="operator",
                at=now,
            )
            if bolt_on and entitlement(organization, at=now).reason != BOLT_ON:
                bolt_on_purchase(organization=organization, actor="operator", at=now)
        state = state_at(subscription, now)
        answer = entitlement(organization, at=now)
        purchase = (
            BoltOnPurchase.objects.filter(
                organization=organization, term_start__lte=now, term_end__gt=now
            )
            .order_by("-term_end")
            .first()
        )
        data = {
            "organization": organization.slug,
            "plan": state.plan,
            "period": state.period,
            "seats": state.seats,
            "term_start": state.term_start.isoformat(),
            "term_end": state.term_end.isoformat(),
            "scheduled": (
                {
                    "plan": subscription.scheduled_plan,
                    "period": subscription.scheduled_period,
                    "seats": subscription.scheduled_seats,
                    "at": subscription.scheduled_at.isoformat(),
                }
                if subscription.has_scheduled_change
                else None
            ),
            "bolt_on": (
                {
                    "term_start": purchase.term_start.isoformat(),
                    "term_end": purchase.term_end.isoformat(),
                    "amount_cents": purchase.amount_cents,
                }
                if purchase is not None
                else None
            ),
            "entitlement": asdict(answer),
        }
        lines = [
            f"{organization.name}: {state.plan_label} {state.period_label}, "
            f"{state.seats} seats, term {state.term_start:%Y-%m-%d} to "
            f"{state.term_end:%Y-%m-%d}."
        ]
        if subscription.has_scheduled_change:
            lines.append(
                f"Scheduled from {subscription.scheduled_at:%Y-%m-%d}: "
                f"{subscription.get_scheduled_plan_display()} "
                f"{subscription.get_scheduled_period_display()}, "
                f"{subscription.scheduled_seats} seats."
            )
        if purchase is not None:
            lines.append(f"Bolt-on active until {purchase.term_end:%Y-%m-%d}.")
        status = "available" if answer.available else "not available"
        lines.append(
            f"SSO and Directory Sync: {status} ({answer.reason}). {answer.message}"
        )
        return "\n".join(lines), data
