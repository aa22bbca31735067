from datetime import timedelta

from django.utils import timezone

from billing.models import BillingChange, Subscription
from billing.services.bolt_on import bolt_on_purchase
from billing.services.subscriptions import subscription_set
from billing.signals import entitlement_changed
from billing.tasks import subscriptions_renew_task
from progression.celery import app as celery_app
from tests.factories import OrganizationFactory


def test_subscriptions_renew_task_run_twice_renews_and_announces_once(
    db, django_capture_on_commit_callbacks
):
    organization = OrganizationFactory()
    start = timezone.now() - timedelta(days=400)
    subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=10,
        actor="operator",
        term_start=start,
    )
    bolt_on_purchase(organization=organization, actor="operator", at=start)
    Subscription.objects.filter(organization=organization).update(
        entitlement_announced=True
    )
    received = []

    def receiver(sender, organization, entitlement, **kwargs):
        received.append(entitlement.reason)

    entitlement_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            subscriptions_renew_task.delay()
        with django_capture_on_commit_callbacks(execute=True):
            subscriptions_renew_task.delay()
    finally:
        entitlement_changed.disconnect(receiver)

    subscription = Subscription.objects.get(organization=organization)
    assert subscription.term_start > timezone.now() - timedelta(days=366)
    assert received == ["bolt_on_expired"]
    assert (
        BillingChange.objects.filter(
            organization=organization, kind=BillingChange.Kind.SUBSCRIPTION_RENEWED
        ).count()
        == 1
    )
    assert subscription.entitlement_announced is False


def test_subscriptions_renew_task_not_due_changes_nothing(db):
    organization = OrganizationFactory()
    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
        term_start=timezone.now() - timedelta(days=10),
    )
    before = BillingChange.objects.count()

    subscriptions_renew_task.delay()

    assert BillingChange.objects.count() == before


def test_beat_schedule_runs_the_renewal_task_hourly():
    entries = list(celery_app.conf.beat_schedule.values())

    assert {"task": "billing.subscriptions_renew", "schedule": 3600} in entries
