from datetime import UTC, datetime, timedelta

import pytest

from billing import entitlements as e
from billing.models import BoltOnPurchase
from billing.services.bolt_on import BoltOnUnavailableError, bolt_on_purchase
from billing.services.subscriptions import subscription_renew, subscription_set
from billing.terms import add_months
from tests.factories import OrganizationFactory

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
END = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
MONTH_END = datetime(2026, 2, 15, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
PRICE = 170_000

# plan, period, seats, bolt-on asked for, what the purchase does (None when it
# is bought, else the refusal code), the answer inside the term and the answer
# once the term has ended.
TABLE = [
    ("launch", "monthly", 49, False, None, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("launch", "monthly", 50, False, None, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("launch", "monthly", 51, False, None, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("launch", "monthly", 49, True, e.MONTHLY_PLAN, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("launch", "monthly", 50, True, e.MONTHLY_PLAN, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("launch", "monthly", 51, True, e.MONTHLY_PLAN, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("launch", "annual", 49, False, None, e.BOLT_ON_REQUIRED, e.BOLT_ON_REQUIRED),
    ("launch", "annual", 50, False, None, e.BOLT_ON_REQUIRED, e.BOLT_ON_REQUIRED),
    ("launch", "annual", 51, False, None, e.BOLT_ON_REQUIRED, e.BOLT_ON_REQUIRED),
    ("launch", "annual", 49, True, None, e.BOLT_ON, e.BOLT_ON_EXPIRED),
    ("launch", "annual", 50, True, None, e.BOLT_ON, e.BOLT_ON_EXPIRED),
    ("launch", "annual", 51, True, None, e.BOLT_ON, e.BOLT_ON_EXPIRED),
    ("scale", "monthly", 49, False, None, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("scale", "monthly", 50, False, None, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("scale", "monthly", 51, False, None, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("scale", "monthly", 49, True, e.MONTHLY_PLAN, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("scale", "monthly", 50, True, e.MONTHLY_PLAN, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("scale", "monthly", 51, True, e.MONTHLY_PLAN, e.MONTHLY_PLAN, e.MONTHLY_PLAN),
    ("scale", "annual", 49, False, None, e.BOLT_ON_REQUIRED, e.BOLT_ON_REQUIRED),
    ("scale", "annual", 50, False, None, e.INCLUDED, e.INCLUDED),
    ("scale", "annual", 51, False, None, e.INCLUDED, e.INCLUDED),
    ("scale", "annual", 49, True, None, e.BOLT_ON, e.BOLT_ON_EXPIRED),
    ("scale", "annual", 50, True, "bolt_on_not_needed", e.INCLUDED, e.INCLUDED),
    ("scale", "annual", 51, True, "bolt_on_not_needed", e.INCLUDED, e.INCLUDED),
]

# Where the moment falls: inside the term, or after it has ended.
MOMENTS = [
    ("term start", lambda end: START, "in"),
    ("last second of the term", lambda end: end - SECOND, "in"),
    ("term end", lambda end: end, "after"),
    ("a second after the term end", lambda end: end + SECOND, "after"),
    ("a term length after the term end", lambda end: end + (end - START), "after"),
]

AVAILABLE = {e.INCLUDED, e.BOLT_ON, e.INCLUDED_UNTIL_RENEWAL}
PRICED = {e.BOLT_ON_REQUIRED, e.BOLT_ON_EXPIRED}


def _expected_message(reason, plan):
    return {
        e.MONTHLY_PLAN: e.MONTHLY_PLAN_MESSAGE,
        e.INCLUDED: e.INCLUDED_MESSAGE,
        e.BOLT_ON: e.BOLT_ON_MESSAGE.format(date="15 January 2027"),
        e.BOLT_ON_EXPIRED: e.BOLT_ON_EXPIRED_MESSAGE.format(date="15 January 2027"),
        e.BOLT_ON_REQUIRED: (
            e.BOLT_ON_REQUIRED_SCALE_MESSAGE
            if plan == "scale"
            else e.BOLT_ON_REQUIRED_LAUNCH_MESSAGE
        ),
    }[reason]


@pytest.mark.parametrize(
    ("plan", "period", "seats", "bolt_on", "purchase", "inside", "after"), TABLE
)
@pytest.mark.parametrize(
    ("moment", "when", "side"), MOMENTS, ids=[m[0] for m in MOMENTS]
)
def test_entitlement_every_combination_expected_answer(
    db, plan, period, seats, bolt_on, purchase, inside, after, moment, when, side
):
    organization = OrganizationFactory()
    subscription_set(
        organization=organization,
        plan=plan,
        period=period,
        seats=seats,
        actor="operator",
        term_start=START,
    )
    end = END if period == "annual" else MONTH_END
    if bolt_on:
        try:
            bolt_on_purchase(
                organization=organization, actor="operator", at=START + SECOND
            )
            refused = None
        except BoltOnUnavailableError as exc:
            refused = exc.code

    answer = e.entitlement(organization, at=when(end))

    reason = inside if side == "in" else after
    if bolt_on:
        assert refused == purchase
    assert answer.reason == reason
    assert answer.available is (reason in AVAILABLE)
    assert answer.bolt_on_price_cents == (PRICE if reason in PRICED else None)
    assert answer.message == _expected_message(reason, plan)


def test_entitlement_no_subscription_unavailable(organization):
    answer = e.entitlement(organization)

    assert answer == e.Entitlement(
        available=False,
        reason=e.NO_SUBSCRIPTION,
        message=e.NO_SUBSCRIPTION_MESSAGE,
        bolt_on_price_cents=None,
    )


def test_entitlement_before_term_start_no_subscription(organization):
    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=60,
        actor="operator",
        term_start=START,
    )

    answer = e.entitlement(organization, at=START - SECOND)

    assert answer.reason == e.NO_SUBSCRIPTION
    assert answer.available is False


def test_entitlement_accepts_organization_id(entitled):
    answer = e.entitlement(entitled.pk)

    assert answer.reason == e.INCLUDED


def test_entitlement_given_subscription_reads_only_bolt_ons_it_needs(
    organization, other_organization, django_assert_num_queries
):
    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
        term_start=START,
    )
    subscription_set(
        organization=other_organization,
        plan="launch",
        period="annual",
        seats=10,
        actor="operator",
        term_start=START,
    )
    bolt_on_purchase(organization=other_organization, actor="operator", at=START)
    scale = organization.subscription
    launch = other_organization.subscription

    with django_assert_num_queries(0):
        included = e.entitlement(organization, at=START, subscription=scale)
    with django_assert_num_queries(1):
        bolt_on = e.entitlement(other_organization, at=START, subscription=launch)
    with django_assert_num_queries(0):
        none = e.entitlement(organization, at=START, subscription=None)

    assert included == e.entitlement(organization, at=START)
    assert bolt_on == e.entitlement(other_organization, at=START)
    assert bolt_on.reason == e.BOLT_ON
    assert none.reason == e.NO_SUBSCRIPTION


def test_entitlement_other_organization_bolt_on_not_shared(
    organization, other_organization
):
    for org in (organization, other_organization):
        subscription_set(
            organization=org,
            plan="launch",
            period="annual",
            seats=10,
            actor="operator",
            term_start=START,
        )
    bolt_on_purchase(organization=other_organization, actor="operator", at=START)

    answer = e.entitlement(organization, at=START + SECOND)

    assert answer.reason == e.BOLT_ON_REQUIRED
    assert e.entitlement(other_organization, at=START).reason == e.BOLT_ON


def _scale_annual(organization, seats=60):
    return subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=seats,
        actor="operator",
        term_start=START,
    )


def test_entitlement_scale_drops_below_fifty_kept_until_renewal(organization):
    _scale_annual(organization)
    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=49,
        actor="operator",
        at=START + timedelta(days=100),
    )

    last_second = e.entitlement(organization, at=END - SECOND)
    renewal = e.entitlement(organization, at=END)

    assert last_second.available is True
    assert last_second.reason == e.INCLUDED_UNTIL_RENEWAL
    assert last_second.message == e.INCLUDED_UNTIL_RENEWAL_MESSAGE.format(
        date="15 January 2027"
    )
    assert last_second.bolt_on_price_cents == PRICE
    assert renewal.available is False
    assert renewal.reason == e.BOLT_ON_REQUIRED
    assert renewal.message == e.BOLT_ON_REQUIRED_SCALE_MESSAGE


def test_entitlement_scale_downgraded_to_launch_kept_until_renewal(organization):
    _scale_annual(organization)
    subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=60,
        actor="operator",
        at=START + timedelta(days=10),
    )

    assert e.entitlement(organization, at=END - SECOND).available is True
    assert e.entitlement(organization, at=END).reason == e.BOLT_ON_REQUIRED


def test_bolt_on_purchase_during_grace_covers_next_term(organization):
    _scale_annual(organization)
    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=40,
        actor="operator",
        at=START + timedelta(days=100),
    )

    purchase = bolt_on_purchase(
        organization=organization, actor="operator", at=START + timedelta(days=200)
    )

    assert (purchase.term_start, purchase.term_end) == (END, add_months(END, 12))
    grace = e.entitlement(organization, at=END - SECOND)
    assert grace.reason == e.INCLUDED_UNTIL_RENEWAL
    assert grace.bolt_on_price_cents is None
    assert e.entitlement(organization, at=END).reason == e.BOLT_ON


def test_entitlement_scale_grows_to_fifty_included_at_once(organization):
    _scale_annual(organization, seats=40)
    subscription_set(
        organization=organization,
        plan="scale",
        period="annual",
        seats=50,
        actor="operator",
        at=START + timedelta(days=5),
    )

    answer = e.entitlement(organization, at=START + timedelta(days=5))

    assert answer.reason == e.INCLUDED


def test_entitlement_switch_to_monthly_waits_for_term_end(organization):
    _scale_annual(organization)
    subscription_set(
        organization=organization,
        plan="scale",
        period="monthly",
        seats=60,
        actor="operator",
        at=START + timedelta(days=30),
    )

    assert e.entitlement(organization, at=END - SECOND).reason == e.INCLUDED
    assert e.entitlement(organization, at=END).reason == e.MONTHLY_PLAN
    assert e.entitlement(organization, at=END + timedelta(days=400)).reason == (
        e.MONTHLY_PLAN
    )


def test_entitlement_launch_bolt_on_then_monthly_runs_to_term_end(organization):
    subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=10,
        actor="operator",
        term_start=START,
    )
    bolt_on_purchase(organization=organization, actor="operator", at=START)
    subscription_set(
        organization=organization,
        plan="launch",
        period="monthly",
        seats=10,
        actor="operator",
        at=START + timedelta(days=30),
    )

    assert e.entitlement(organization, at=END - SECOND).reason == e.BOLT_ON
    assert e.entitlement(organization, at=END).reason == e.MONTHLY_PLAN


def test_entitlement_monthly_to_annual_starts_new_term_now(organization):
    subscription_set(
        organization=organization,
        plan="launch",
        period="monthly",
        seats=10,
        actor="operator",
        term_start=START,
    )
    switch = START + timedelta(days=10)
    subscription = subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=10,
        actor="operator",
        at=switch,
    )

    purchase = bolt_on_purchase(organization=organization, actor="operator", at=switch)

    assert (subscription.term_start, subscription.term_end) == (
        switch,
        add_months(switch, 12),
    )
    assert purchase.term_end == add_months(switch, 12)
    assert e.entitlement(organization, at=add_months(switch, 12) - SECOND).reason == (
        e.BOLT_ON
    )


def test_entitlement_bolt_on_bought_again_after_expiry_available(organization):
    subscription_set(
        organization=organization,
        plan="launch",
        period="annual",
        seats=10,
        actor="operator",
        term_start=START,
    )
    bolt_on_purchase(organization=organization, actor="operator", at=START)

    purchase = bolt_on_purchase(
        organization=organization, actor="operator", at=END + timedelta(days=3)
    )

    assert (purchase.term_start, purchase.term_end) == (END, add_months(END, 12))
    assert e.entitlement(organization, at=END + timedelta(days=3)).reason == e.BOLT_ON
    assert BoltOnPurchase.objects.filter(organization=organization).count() == 2


def test_entitlement_renewal_written_same_answer(organization):
    _scale_annual(organization)
    subscription_set(
        organization=organization,
        plan="scale",
        period="monthly",
        seats=60,
        actor="operator",
        at=START + timedelta(days=30),
    )
    later = END + timedelta(days=45)
    before = e.entitlement(organization, at=later)

    subscription = subscription_renew(organization=organization, at=later)

    assert e.entitlement(organization, at=later) == before
    assert subscription.period == "monthly"
    assert subscription.term_start == add_months(END, 1)
    assert subscription.has_scheduled_change is False


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 2, datetime(2026, 3, 31, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2029, 2, 28, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), 1, datetime(2027, 1, 15, tzinfo=UTC)),
    ],
)
def test_add_months_clamps_to_month_end(moment, months, expected):
    assert add_months(moment, months) == expected


def test_entitlement_monthly_terms_keep_day_of_month(organization):
    subscription_set(
        organization=organization,
        plan="launch",
        period="monthly",
        seats=5,
        actor="operator",
        term_start=datetime(2026, 1, 31, tzinfo=UTC),
    )

    subscription = subscription_renew(
        organization=organization, at=datetime(2026, 3, 31, 1, tzinfo=UTC)
    )

    assert subscription.term_start == datetime(2026, 3, 31, tzinfo=UTC)
    assert subscription.term_end == datetime(2026, 4, 30, tzinfo=UTC)


def test_entitlement_of_subscription_passed_in_reads_no_subscription(
    organization, django_assert_num_queries
):
    subscription = _scale_annual(organization)

    with django_assert_num_queries(0):
        answer = e.entitlement(
            organization, at=START + SECOND, subscription=subscription
        )

    assert answer.reason == e.INCLUDED


def test_entitlement_of_no_subscription_passed_in_is_unavailable(organization):
    _scale_annual(organization)

    answer = e.entitlement(organization, at=START + SECOND, subscription=None)

    assert answer.available is False
    assert answer.reason == e.NO_SUBSCRIPTION
