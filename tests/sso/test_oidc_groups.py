"""Entra's groups overage: a token that leaves the groups out says so.

Past 200 groups Entra sends `_claim_names`/`_claim_sources` (a distributed
claim pointing at Microsoft Graph) instead of the groups claim. The Entra peer
is steered to hand out exactly such tokens, signed with its key.
"""

from django.urls import reverse
from django.utils.html import escape

from sso.models import LoginAttempt
from sso.views.portal.attempts import GROUPS_OVERAGE
from tests.sso.oidc_peer import TENANT, oidc_connect, sign_in

GRAPH = "https://graph.microsoft.com/v1.0/users/ada/getMemberObjects"
OVERAGE = {
    "_claim_names": {"groups": "src1"},
    "_claim_sources": {"src1": {"endpoint": GRAPH}},
}


def entra_connect(acme, entra, **options):
    return oidc_connect(
        acme,
        f"{entra.base_url}/organizations/v2.0",
        provider="microsoft-oauth",
        tenant_ids=[TENANT],
        **options,
    )


def test_overage_is_recorded_on_the_sign_in(client, entra, acme, ada):
    connection = entra_connect(acme, entra)
    entra.steer(claims=OVERAGE, remove=["groups"])

    response = sign_in(entra, client, connection, login="ms-ada")

    assert response.status_code == 302
    attempt = LoginAttempt.objects.get(connection=connection)
    assert attempt.outcome == LoginAttempt.Outcome.SIGNED_IN
    assert attempt.groups_overage is True
    assert attempt.mapped["groups"] == []


def test_groups_in_the_token_are_no_overage(client, entra, acme, ada):
    connection = entra_connect(acme, entra)
    entra.steer(claims={"groups": ["g-1", "g-2"]})

    sign_in(entra, client, connection, login="ms-ada")

    attempt = LoginAttempt.objects.get(connection=connection)
    assert attempt.groups_overage is False
    assert attempt.mapped["groups"] == ["g-1", "g-2"]


def test_hasgroups_alone_is_an_overage(client, entra, acme, ada):
    connection = entra_connect(acme, entra)
    entra.steer(claims={"hasgroups": True}, remove=["groups"])

    sign_in(entra, client, connection, login="ms-ada")

    assert LoginAttempt.objects.get(connection=connection).groups_overage is True


def test_test_sign_in_tells_the_admin_why_groups_are_missing(
    admin_client, entra, acme, ada
):
    connection = entra_connect(acme, entra, activate=False)
    entra.steer(claims=OVERAGE, remove=["groups"])

    test = admin_client.post(reverse("sso:connection-test", args=[connection.pk]))
    back = entra.sign_in(test["Location"], login="ms-ada")
    result = admin_client.get(back)
    shown = admin_client.get(result["Location"])

    listed = admin_client.get(reverse("sso:connection-attempts", args=[connection.pk]))

    body = shown.content.decode()
    assert "groups left out" in listed.content.decode()
    assert 'id="test-groups-overage"' in body
    assert escape(GROUPS_OVERAGE) in body
    assert "Groups assigned to the application" in GROUPS_OVERAGE
    attempt = LoginAttempt.objects.get(connection=connection)
    assert (attempt.test, attempt.groups_overage) == (True, True)


def test_test_sign_in_without_overage_shows_no_notice(admin_client, entra, acme, ada):
    connection = entra_connect(acme, entra, activate=False)
    entra.steer(claims={"groups": ["g-1"]})

    test = admin_client.post(reverse("sso:connection-test", args=[connection.pk]))
    back = entra.sign_in(test["Location"], login="ms-ada")
    shown = admin_client.get(admin_client.get(back)["Location"])
    listed = admin_client.get(reverse("sso:connection-attempts", args=[connection.pk]))

    assert 'id="test-groups-overage"' not in shown.content.decode()
    assert "groups left out" not in listed.content.decode()
