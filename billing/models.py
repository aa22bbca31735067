"""Plans, seats and the SSO & Directory Sync bolt-on of each organisation.

An organisation has at most one subscription. Its term is the period it has
paid for; subscriptions renew at the end of each term with the same plan,
unless a change is scheduled for that moment (a switch from an annual to a
monthly period waits for the end of the annual term). Bolt-on purchases cover
one annual term and do not renew by themselves. Every change is recorded as a
`BillingChange`. Amounts are integer cents.
"""

from django.db import models
from django.db.models import F, Q

from billing.money import dollars
from progression.models import Organization, User


class Plan(models.TextChoices):
    LAUNCH = "launch", "Launch"
    SCALE = "scale", "Scale"


class Period(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    ANNUAL = "annual", "Annual"


class Subscription(models.Model):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="subscription"
    )
    plan = models.CharField(max_length=10, choices=Plan.choices)
    period = models.CharField(max_length=10, choices=Period.choices)
    seats = models.PositiveIntegerField()
    term_start = models.DateTimeField()
    term_end = models.DateTimeField()
    # Set when a change ends the included entitlement in the middle of a term:
    # the organisation keeps it until this moment, its renewal date.
    included_until = models.DateTimeField(null=True, blank=True)
    # A change that takes effect at `scheduled_at` (the end of the term).
    scheduled_plan = models.CharField(max_length=10, choices=Plan.choices, blank=True)
    scheduled_period = models.CharField(
        max_length=10, choices=Period.choices, blank=True
    )
    scheduled_seats = models.PositiveIntegerField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # The availability last announced through `billing.signals
    # .entitlement_changed`, so a change is announced once.
    entitlement_announced = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(seats__gte=1), name="subscription_seats_positive"
            ),
            models.CheckConstraint(
                condition=Q(term_end__gt=F("term_start")),
                name="subscription_term_ordered",
            ),
            models.CheckConstraint(
                condition=(
                    Q(scheduled_at__isnull=True)
                    & Q(scheduled_plan="")
                    & Q(scheduled_period="")
                    & Q(scheduled_seats__isnull=True)
                )
                | (
                    Q(scheduled_at__isnull=False)
                    & ~Q(scheduled_plan="")
                    & ~Q(scheduled_period="")
                    & Q(scheduled_seats__gte=1)
                ),
                name="subscription_scheduled_complete",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_plan_display()} {self.get_period_display()}, {self.seats} seats"
        )

    @property
    def has_scheduled_change(self) -> bool:
        return self.scheduled_at is not None


class BoltOnPurchase(models.Model):
    """The SSO & Directory Sync bolt-on, bought for one annual term."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="bolt_on_purchases"
    )
    term_start = models.DateTimeField()
    term_end = models.DateTimeField()
    amount_cents = models.PositiveIntegerField()
    processor = models.CharField(max_length=60)
    payment_reference = models.CharField(max_length=200)
    purchased_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    purchased_by_label = models.CharField(max_length=200, blank=True)
    purchased_at = models.DateTimeField()

    class Meta:
        ordering = ["-term_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "term_start"], name="bolton_unique_term"
            ),
            models.CheckConstraint(
                condition=Q(term_end__gt=F("term_start")), name="bolton_term_ordered"
            ),
        ]

    def __str__(self):
        return f"SSO & Directory Sync bolt-on {self.term_start:%Y-%m-%d}"


class BillingChange(models.Model):
    """One change to an organisation's subscription or bolt-ons, as it happened."""

    class Kind(models.TextChoices):
        SUBSCRIPTION_STARTED = "subscription_started", "Subscription started"
        SUBSCRIPTION_CHANGED = "subscription_changed", "Subscription changed"
        CHANGE_SCHEDULED = "change_scheduled", "Change scheduled"
        CHANGE_APPLIED = "change_applied", "Scheduled change applied"
        SUBSCRIPTION_RENEWED = "subscription_renewed", "Subscription renewed"
        BOLT_ON_PURCHASED = "bolt_on_purchased", "Bolt-on purchased"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="billing_changes"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    effective_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "-created_at", "-id"],
                name="billingchange_org_time_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.effective_at:%Y-%m-%d}"

    @property
    def summary(self) -> str:
        """The state after the change, in a few words."""
        after = self.after
        if self.kind == self.Kind.BOLT_ON_PURCHASED:
            amount = dollars(after.get("amount_cents", 0))
            return f"{amount}, {after.get('processor', '')}"
        terms = after.get("scheduled", after)
        if not terms.get("plan"):
            return ""
        return (
            f"{Plan(terms['plan']).label} {Period(terms['period']).label}, "
            f"{terms['seats']} seats"
        )
