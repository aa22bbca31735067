from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from billing import entitlements as e
from billing.models import BillingChange, BoltOnPurchase, Subscription
from billing.payments import InvoiceLaterProcessor, Payment
from billing.services.announcements import entitlement_announce
from billing.services.bolt_on import (
    BOLT_ON_ALREADY_ACTIVE,
    BOLT_ON_ALREADY_BOUGHT,
    BOLT_ON_NEEDS_ANNUAL,
    BOLT_ON_NEEDS_SUBSCRIPTION,
    BOLT_ON_NOT_NEEDED,
    BoltOnUnavailableError,
    bolt_on_purchase,
)
from billing.services.subscriptions import (
    PERIOD_INVALID,
    PLAN_INVALID,
    SEATS_INVALID,
    subscription_renew,
    subscription_set,
)
from billing.signals import entitlement_changed
from progression.errors import ConflictError, ProgressionError, ValidationFailedError
from progression.models import AuditEvent

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
END = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def _set(organization, **overrides):
    arguments = {
        "organization": organization,
        "plan": "launch",
        "period": "annual",
        "seats": 10,
        "actor": "operator",
        "term_start": START,
    }
    arguments.update(overrides)
    return subscription_set(**arguments)


def test_entitled_fixture_scale_annual_fifty_seats_included(entitled):
    answer = e.entitlement(entitled)

    assert answer.available is True
    assert answer.reason == e.INCLUDED
    assert answer.bolt_on_price_cents is None


def test_subscription_set_new_records_change_and_audit(organization, admin):
    subscription = _set(organization, actor=admin)

    assert (subscription.plan, subscription.period, subscription.seats) == (
        "launch",
        "annual",
        10,
    )
    assert (subscription.term_start, subscription.term_end) == (START, END)
    change = BillingChange.objects.get(organization=organization)
    assert change.kind == BillingChange.Kind.SUBSCRIPTION_STARTED
    assert change.actor == admin
    assert change.after["seats"] == 10
    assert change.summary == "Launch Annual, 10 seats"
    event = AuditEvent.objects.get(organization=organization)
    assert event.action == "billing.subscription_started"
    assert event.actor_label == admin.email


def test_subscription_set_same_values_twice_records_once(organization):
    _set(organization)

    _set(organization)
    _set(organization, term_start=None, at=START + timedelta(days=1))

    assert BillingChange.objects.filter(organization=organization).count() == 1
    assert AuditEvent.objects.filter(organization=organization).count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("plan", "enterprise", PLAN_INVALID),
        ("plan", "", PLAN_INVALID),
        ("period", "weekly", PERIOD_INVALID),
        ("seats", 0, SEATS_INVALID),
        ("seats", -5, SEATS_INVALID),
        ("seats", "10", SEATS_INVALID),
        ("seats", True, SEATS_INVALID),
        ("seats", 100_001, SEATS_INVALID),
    ],
)
def test_subscription_set_bad_input_refused_nothing_written(
    organization, field, value, message
):
    with pytest.raises(ValidationFailedError) as caught:
        _set(organization, **{field: value})

    assert caught.value.message == message
    assert Subscription.objects.exists() is False
    assert BillingChange.objects.exists() is False
    assert AuditEvent.objects.exists() is False


def test_subscription_set_bad_input_on_existing_changes_nothing(organization):
    _set(organization)

    with pytest.raises(ValidationFailedError):
        _set(organization, seats=0, term_start=None)

    assert Subscription.objects.get(organization=organization).seats == 10
    assert BillingChange.objects.filter(organization=organization).count() == 1


def test_subscription_set_annual_to_monthly_scheduled_for_term_end(organization):
    _set(organization, plan="scale", seats=60)

    subscription = _set(
        organization,
        plan="scale",
        period="monthly",
        seats=60,
        term_start=None,
        at=START + timedelta(days=20),
    )

    assert subscription.period == "annual"
    assert subscription.scheduled_period == "monthly"
    assert subscription.scheduled_at == END
    change = BillingChange.objects.filter(organization=organization).first()
    assert change.kind == BillingChange.Kind.CHANGE_SCHEDULED
    assert change.effective_at == END
    assert change.summary == "Scale Monthly, 60 seats"


def test_subscription_set_annual_again_cancels_scheduled_switch(organization):
    _set(organization, plan="scale", seats=60)
    _set(
        organization,
        plan="scale",
        period="monthly",
        seats=60,
        term_start=None,
        at=START + timedelta(days=20),
    )

    subscription = _set(
        organization,
        plan="scale",
        seats=60,
        term_start=None,
        at=START + timedelta(days=21),
    )

    assert subscription.has_scheduled_change is False
    assert e.entitlement(organization, at=END).reason == e.INCLUDED


def test_subscription_renew_applies_scheduled_change_once(organization):
    _set(organization, plan="scale", seats=60)
    _set(
        organization,
        plan="launch",
        period="monthly",
        seats=8,
        term_start=None,
        at=START + timedelta(days=20),
    )

    subscription_renew(organization=organization, at=END)
    subscription = subscription_renew(organization=organization, at=END)

    assert (subscription.plan, subscription.period, subscription.seats) == (
        "launch",
        "monthly",
        8,
    )
    assert subscription.term_start == END
    assert subscription.has_scheduled_change is False
    kinds = list(
        BillingChange.objects.filter(organization=organization).values_list(
            "kind", flat=True
        )
    )
    assert kinds.count(BillingChange.Kind.CHANGE_APPLIED) == 1


def test_subscription_renew_no_subscription_returns_none(organization):
    assert subscription_renew(organization=organization) is None


def test_bolt_on_purchase_launch_annual_records_purchase(organization, admin):
    _set(organization)

    purchase = bolt_on_purchase(
        organization=organization, actor=admin, at=START + timedelta(days=3)
    )

    assert (purchase.term_start, purchase.term_end) == (START, END)
    assert purchase.amount_cents == 170_000
    assert purchase.processor == InvoiceLaterProcessor.name
    assert purchase.payment_reference.startswith("invoice-")
    assert purchase.purchased_by == admin
    change = BillingChange.objects.filter(organization=organization).first()
    assert change.kind == BillingChange.Kind.BOLT_ON_PURCHASED
    assert change.after["amount_cents"] == 170_000
    assert change.summary == "$1,700, invoice_later"
    assert AuditEvent.objects.filter(
        organization=organization, action="billing.bolt_on_purchased"
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "error", "message", "code"),
    [
        (
            {"period": "monthly"},
            BoltOnUnavailableError,
            BOLT_ON_NEEDS_ANNUAL,
            e.MONTHLY_PLAN,
        ),
        (
            {"plan": "scale", "seats": 50},
            BoltOnUnavailableError,
            BOLT_ON_NOT_NEEDED,
            "bolt_on_not_needed",
        ),
    ],
)
def test_bolt_on_purchase_refused_nothing_written(
    organization, overrides, error, message, code
):
    _set(organization, **overrides)
    changes = BillingChange.objects.count()
    audits = AuditEvent.objects.count()

    with pytest.raises(error) as caught:
        bolt_on_purchase(
            organization=organization, actor="operator", at=START + timedelta(days=1)
        )

    assert (caught.value.message, caught.value.code) == (message, code)
    assert BoltOnPurchase.objects.exists() is False
    assert BillingChange.objects.count() == changes
    assert AuditEvent.objects.count() == audits


def test_bolt_on_purchase_no_subscription_refused(organization):
    with pytest.raises(BoltOnUnavailableError) as caught:
        bolt_on_purchase(organization=organization, actor="operator")

    assert caught.value.message == BOLT_ON_NEEDS_SUBSCRIPTION
    assert BoltOnPurchase.objects.exists() is False


def test_bolt_on_purchase_twice_in_term_refused(organization):
    _set(organization)
    bolt_on_purchase(organization=organization, actor="operator", at=START)

    with pytest.raises(ConflictError) as caught:
        bolt_on_purchase(
            organization=organization, actor="operator", at=START + timedelta(days=9)
        )

    assert caught.value.message == BOLT_ON_ALREADY_ACTIVE
    assert BoltOnPurchase.objects.count() == 1


def test_bolt_on_purchase_grace_then_monthly_refused(organization):
    _set(organization, plan="scale", seats=60)
    _set(
        organization,
        plan="scale",
        seats=40,
        term_start=None,
        at=START + timedelta(days=1),
    )
    _set(
        organization,
        plan="scale",
        period="monthly",
        seats=40,
        term_start=None,
        at=START + timedelta(days=2),
    )

    with pytest.raises(BoltOnUnavailableError) as caught:
        bolt_on_purchase(
            organization=organization, actor="operator", at=START + timedelta(days=3)
        )

    assert caught.value.message == BOLT_ON_NEEDS_ANNUAL
    assert BoltOnPurchase.objects.exists() is False


def test_bolt_on_purchase_grace_twice_refused(organization):
    _set(organization, plan="scale", seats=60)
    _set(organization, plan="scale", seats=40, term_start=None, at=START)
    bolt_on_purchase(organization=organization, actor="operator", at=START)

    with pytest.raises(ConflictError) as caught:
        bolt_on_purchase(organization=organization, actor="operator", at=START)

    assert caught.value.message == BOLT_ON_ALREADY_BOUGHT
    assert BoltOnPurchase.objects.count() == 1


class DecliningProcessor:
    name = "declining"

    def charge(self, *, organization, amount_cents, description):
        raise ProgressionError("The card was declined.", code="payment_declined")


class RecordingProcessor:
    name = "recording"
    charges = []

    def charge(self, *, organization, amount_cents, description):
        self.charges.append((organization.pk, amount_cents))
        return Payment(processor=self.name, reference="rec-1")


@override_settings(
    BILLING_PAYMENT_PROCESSOR="tests.billing.test_services.DecliningProcessor"
)
def test_bolt_on_purchase_payment_declined_nothing_written(organization):
    _set(organization)
    changes = BillingChange.objects.count()

    with pytest.raises(ProgressionError) as caught:
        bolt_on_purchase(organization=organization, actor="operator")

    assert caught.value.code == "payment_declined"
    assert BoltOnPurchase.objects.exists() is False
    assert BillingChange.objects.count() == changes


@override_settings(
    BILLING_PAYMENT_PROCESSOR="tests.billing.test_services.RecordingProcessor"
)
def test_bolt_on_purchase_configured_processor_charged_in_cents(organization):
    _set(organization, term_start=None)
    RecordingProcessor.charges.clear()

    purchase = bolt_on_purchase(organization=organization, actor="operator")

    assert RecordingProcessor.charges == [(organization.pk, 170_000)]
    assert (purchase.processor, purchase.payment_reference) == ("recording", "rec-1")


def test_entitlement_announce_sends_once_per_change(organization):
    received = []

    def receiver(sender, organization, entitlement, **kwargs):
        received.append((organization.pk, entitlement.available, entitlement.reason))

    entitlement_changed.connect(receiver)
    try:
        _set(organization, term_start=None)
        first = entitlement_announce(organization=organization)
        bolt_on_purchase(organization=organization, actor="operator")
        second = entitlement_announce(organization=organization)
        third = entitlement_announce(organization=organization)
    finally:
        entitlement_changed.disconnect(receiver)

    assert (first, second, third) == (False, True, False)
    assert received == [(organization.pk, True, e.BOLT_ON)]


def test_entitlement_announce_at_term_end_announces_loss(organization):
    received = []

    def receiver(sender, organization, entitlement, **kwargs):
        received.append(entitlement.reason)

    _set(organization)
    bolt_on_purchase(organization=organization, actor="operator", at=START)
    entitlement_changed.connect(receiver)
    try:
        entitlement_announce(organization=organization, at=START)
        entitlement_announce(organization=organization, at=END)
        entitlement_announce(organization=organization, at=END)
    finally:
        entitlement_changed.disconnect(receiver)

    assert received == [e.BOLT_ON, e.BOLT_ON_EXPIRED]


def test_subscription_set_announces_after_commit(
    organization, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, organization, entitlement, **kwargs):
        received.append(entitlement.reason)

    entitlement_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            subscription_set(
                organization=organization,
                plan="scale",
                period="annual",
                seats=50,
                actor="operator",
            )
    finally:
        entitlement_changed.disconnect(receiver)

    assert received == [e.INCLUDED]
    assert (
        Subscription.objects.get(organization=organization).entitlement_announced
        is True
    )
