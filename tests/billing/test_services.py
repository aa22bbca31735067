from billing.entitlements import INCLUDED, entitlement


def test_entitled_fixture_scale_annual_fifty_seats_included(entitled):
    answer = entitlement(entitled)

    assert answer.available is True
    assert answer.reason == INCLUDED
    assert answer.bolt_on_price_cents is None
