from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from billing import entitlements as e
from billing.models import BillingChange, BoltOnPurchase
from billing.services.bolt_on import BOLT_ON_NEEDS_ANNUAL
from billing.services.subscriptions import subscription_set
from billing.views import BOLT_ON_ADDED
from progression.access import ADMINS_ONLY
from progression.models import User
from tests.factories import AdminFactory, UserFactory

INDEX = reverse("billing:index")
BOLT_ON = reverse("billing:bolt-on")


def _launch_annual(organization, **overrides):
    arguments = {
        "organization": organization,
        "plan": "launch",
        "period": "annual",
        "seats": 20,
        "actor": "operator",
    }
    arguments.update(overrides)
    return subscription_set(**arguments)


def test_index_shows_plan_seats_in_use_and_entitlement(admin_client, organization):
    _launch_annual(organization)
    UserFactory.create_batch(3, organization=organization)
    UserFactory(
        organization=organization,
        status=User.Status.ARCHIVED,
        archived_at=timezone.now(),
    )

    response = admin_client.get(INDEX)

    assert response.status_code == 200
    assert response.context["seats_in_use"] == 4
    assert response.context["state"].seats == 20
    assert response.context["entitlement"].reason == e.BOLT_ON_REQUIRED
    body = response.content.decode()
    assert "Launch" in body
    assert "Annual" in body
    assert escape(e.BOLT_ON_REQUIRED_LAUNCH_MESSAGE) in body
    assert "$1,700 per year" in body
    assert "Add the bolt-on" in body
    assert "Subscription started" in body


def test_index_no_subscription_explains(admin_client):
    response = admin_client.get(INDEX)

    assert response.status_code == 200
    assert response.context["entitlement"].reason == e.NO_SUBSCRIPTION
    body = response.content.decode()
    assert escape(e.NO_SUBSCRIPTION_MESSAGE) in body
    assert "Add the bolt-on" not in body


def test_index_monthly_explains_no_bolt_on(admin_client, organization):
    _launch_annual(organization, period="monthly")

    response = admin_client.get(INDEX)

    body = response.content.decode()
    assert escape(e.MONTHLY_PLAN_MESSAGE) in body
    assert "Monthly plans cannot add the bolt-on" in body
    assert "Add the bolt-on" not in body


def test_index_scheduled_switch_shown(admin_client, organization):
    _launch_annual(organization, plan="scale", seats=60)
    subscription = _launch_annual(organization, plan="scale", period="monthly")

    response = admin_client.get(INDEX)

    assert response.context["entitlement"].reason == e.INCLUDED
    body = response.content.decode()
    assert "Scale Monthly, 20 seats, from" in body
    scheduled = subscription.scheduled_at
    assert f"{scheduled.day} {scheduled:%b %Y}" in body


def test_index_member_refused(member_client, organization):
    _launch_annual(organization)

    response = member_client.get(INDEX)

    assert response.status_code == 403
    assert escape(ADMINS_ONLY) in response.content.decode()


def test_index_anonymous_redirected_to_signin(client):
    response = client.get(INDEX)

    assert response.status_code == 302


def test_index_other_organization_data_not_shown(
    admin_client, organization, other_organization
):
    _launch_annual(other_organization, plan="scale", seats=75)
    subscription_set(
        organization=other_organization,
        plan="scale",
        period="annual",
        seats=40,
        actor="operator",
    )
    UserFactory.create_batch(2, organization=other_organization)

    response = admin_client.get(INDEX)

    assert response.context["state"] is None
    assert response.context["seats_in_use"] == 1
    assert list(response.context["changes"]) == []
    assert response.context["entitlement"].reason == e.NO_SUBSCRIPTION
    assert "40 seats" not in response.content.decode()


def test_bolt_on_add_records_purchase(admin_client, admin, organization):
    _launch_annual(organization)

    response = admin_client.post(BOLT_ON, follow=True)

    purchase = BoltOnPurchase.objects.get(organization=organization)
    assert purchase.purchased_by == admin
    assert purchase.amount_cents == 170_000
    assert response.redirect_chain == [(INDEX, 302)]
    body = response.content.decode()
    date = f"{purchase.term_end.day} {purchase.term_end:%B %Y}"
    assert escape(BOLT_ON_ADDED.format(date=date)) in body
    assert response.context["entitlement"].reason == e.BOLT_ON
    assert "Bolt-on purchased" in body


def test_bolt_on_add_monthly_refused_nothing_written(admin_client, organization):
    _launch_annual(organization, period="monthly")
    changes = BillingChange.objects.count()

    response = admin_client.post(BOLT_ON, follow=True)

    assert escape(BOLT_ON_NEEDS_ANNUAL) in response.content.decode()
    assert BoltOnPurchase.objects.exists() is False
    assert BillingChange.objects.count() == changes


def test_bolt_on_add_member_refused_nothing_written(member_client, organization):
    _launch_annual(organization)

    response = member_client.post(BOLT_ON)

    assert response.status_code == 403
    assert BoltOnPurchase.objects.exists() is False


def test_bolt_on_add_get_not_allowed(admin_client, organization):
    _launch_annual(organization)

    response = admin_client.get(BOLT_ON)

    assert response.status_code == 405
    assert BoltOnPurchase.objects.exists() is False


def test_bolt_on_add_buys_only_for_own_organization(
    client, organization, other_organization
):
    _launch_annual(organization)
    _launch_annual(other_organization)
    other_admin = AdminFactory(organization=other_organization)
    client.force_login(other_admin)

    client.post(BOLT_ON, {"organization": organization.pk})

    assert BoltOnPurchase.objects.get().organization == other_organization
    assert e.entitlement(organization).reason == e.BOLT_ON_REQUIRED


@pytest.mark.parametrize(
    ("cents", "text"), [(170_000, "$1,700"), (1_050, "$10.50"), (5, "$0.05")]
)
def test_dollars_filter_formats_integer_cents(cents, text):
    from billing.templatetags.billing_tags import dollars

    assert dollars(cents) == text


def test_upsell_partial_explains_and_links_to_billing(rf, organization):
    from django.template.loader import render_to_string

    _launch_annual(organization)
    answer = e.entitlement(organization)

    html = render_to_string("billing/_upsell.html", {"entitlement": answer})

    assert escape(e.BOLT_ON_REQUIRED_LAUNCH_MESSAGE) in html
    assert f'href="{INDEX}"' in html
    assert "Add the bolt-on for $1,700/year" in html


def test_upsell_partial_available_renders_nothing(entitled):
    from django.template.loader import render_to_string

    html = render_to_string(
        "billing/_upsell.html", {"entitlement": e.entitlement(entitled)}
    )

    assert html.strip() == ""


def test_upsell_partial_grace_shows_renewal_notice(organization):
    from django.template.loader import render_to_string

    _launch_annual(organization, plan="scale", seats=60)
    _launch_annual(organization, plan="scale", seats=30)
    answer = e.entitlement(organization, at=timezone.now() + timedelta(seconds=1))

    html = render_to_string("billing/_upsell.html", {"entitlement": answer})

    assert answer.reason == e.INCLUDED_UNTIL_RENEWAL
    assert escape(answer.message) in html


def test_index_future_term_says_when_it_starts(admin_client, organization):
    start = timezone.now() + timedelta(days=10)
    _launch_annual(organization, term_start=start)

    response = admin_client.get(INDEX)

    assert response.context["state"] is None
    assert response.context["entitlement"].reason == e.NO_SUBSCRIPTION
    assert f"starts on {start.day} {start:%b %Y}" in response.content.decode()


def test_index_more_people_than_seats_noticed(admin_client, organization):
    _launch_annual(organization, seats=2)
    UserFactory.create_batch(2, organization=organization)

    response = admin_client.get(INDEX)

    assert response.context["over_seats"] is True
    assert "3 active people use more than the 2 seats" in response.content.decode()


def test_upsell_partial_monthly_links_to_plan(organization):
    from django.template.loader import render_to_string

    _launch_annual(organization, period="monthly")

    html = render_to_string(
        "billing/_upsell.html", {"entitlement": e.entitlement(organization)}
    )

    assert escape(e.MONTHLY_PLAN_MESSAGE) in html
    assert "See your plan on the Billing page" in html
    assert "$1,700/year</a>" not in html
