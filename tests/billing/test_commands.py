import io
import json

import pytest
from django.core.management import CommandError, call_command

from billing import entitlements as e
from billing.models import BillingChange, BoltOnPurchase, Subscription
from billing.services.bolt_on import BOLT_ON_NOT_NEEDED


def _run(*args) -> str:
    out = io.StringIO()
    call_command("set_plan", *args, stdout=out)
    return out.getvalue()


def test_set_plan_scale_annual_prints_included(organization):
    output = _run(
        "acme", "--plan", "scale", "--period", "annual", "--seats", "50", "--json"
    )

    data = json.loads(output)
    assert (data["plan"], data["period"], data["seats"]) == ("scale", "annual", 50)
    assert data["entitlement"] == {
        "available": True,
        "reason": e.INCLUDED,
        "message": e.INCLUDED_MESSAGE,
        "bolt_on_price_cents": None,
    }
    assert data["bolt_on"] is None
    assert Subscription.objects.get(organization=organization).seats == 50


def test_set_plan_launch_annual_bolt_on_records_purchase(organization):
    output = _run(
        "acme",
        "--plan",
        "launch",
        "--period",
        "annual",
        "--seats",
        "12",
        "--bolt-on",
        "--json",
    )

    data = json.loads(output)
    purchase = BoltOnPurchase.objects.get(organization=organization)
    assert data["entitlement"]["available"] is True
    assert data["entitlement"]["reason"] == e.BOLT_ON
    assert data["bolt_on"]["amount_cents"] == 170_000
    assert data["bolt_on"]["term_end"] == purchase.term_end.isoformat()
    assert purchase.purchased_by_label == "operator"


def test_set_plan_run_twice_with_bolt_on_buys_once(organization):
    args = ["acme", "--plan", "launch", "--period", "annual", "--seats", "12"]

    _run(*args, "--bolt-on")
    output = _run(*args, "--bolt-on")

    assert BoltOnPurchase.objects.filter(organization=organization).count() == 1
    assert "Bolt-on active until" in output
    assert "available (bolt_on)" in output


def test_set_plan_summary_names_reason(organization):
    output = _run("acme", "--plan", "launch", "--period", "monthly", "--seats", "5")

    assert "Acme: Launch Monthly, 5 seats" in output
    assert f"not available ({e.MONTHLY_PLAN}). {e.MONTHLY_PLAN_MESSAGE}" in output


def test_set_plan_monthly_bolt_on_fails_and_changes_nothing(organization):
    _run("acme", "--plan", "launch", "--period", "annual", "--seats", "5")
    changes = BillingChange.objects.count()

    with pytest.raises(CommandError, match="only available on annual plans"):
        _run(
            "acme",
            "--plan",
            "scale",
            "--period",
            "monthly",
            "--seats",
            "5",
            "--bolt-on",
        )

    subscription = Subscription.objects.get(organization=organization)
    assert subscription.has_scheduled_change is False
    assert subscription.plan == "launch"
    assert BillingChange.objects.count() == changes


def test_set_plan_included_bolt_on_fails_and_changes_nothing(organization):
    with pytest.raises(CommandError) as caught:
        _run(
            "acme",
            "--plan",
            "scale",
            "--period",
            "annual",
            "--seats",
            "80",
            "--bolt-on",
        )

    assert str(caught.value) == BOLT_ON_NOT_NEEDED
    assert Subscription.objects.exists() is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plan", "gold", "--period", "annual", "--seats", "5"], "invalid choice"),
        (["--plan", "scale", "--period", "weekly", "--seats", "5"], "invalid choice"),
        (["--plan", "scale", "--period", "annual", "--seats", "many"], "invalid int"),
        (["--plan", "scale", "--period", "annual", "--seats", "0"], "Seats must"),
        (["--plan", "scale", "--period", "annual"], "required"),
    ],
)
def test_set_plan_bad_input_fails_and_changes_nothing(organization, args, message):
    with pytest.raises(CommandError, match=message):
        _run("acme", *args)

    assert Subscription.objects.exists() is False


def test_set_plan_unknown_slug_fails(db):
    with pytest.raises(CommandError, match="No organisation has the slug"):
        _run("nowhere", "--plan", "scale", "--period", "annual", "--seats", "5")

    assert Subscription.objects.exists() is False


def test_set_plan_changes_only_named_organization(organization, other_organization):
    _run("globex", "--plan", "scale", "--period", "annual", "--seats", "60")

    assert e.entitlement(organization).reason == e.NO_SUBSCRIPTION
    assert e.entitlement(other_organization).reason == e.INCLUDED
