"""`create_sso_connection` for OIDC providers, against the provider peer."""

import json

import pytest
from django.core.management import CommandError, call_command

from sso.models import Connection
from tests.sso.oidc_peer import CLIENT_SECRET, TENANT


def test_create_generic_oidc_connection_prints_redirect_and_login_urls(
    entitled, peer, capsys
):
    call_command(
        "create_sso_connection",
        "acme",
        "--provider",
        "generic-oidc",
        "--issuer",
        peer.issuer,
        "--client-id",
        "progression",
        "--client-secret",
        CLIENT_SECRET,
        "--activate",
        "--json",
    )

    data = json.loads(capsys.readouterr().out)
    connection = Connection.objects.get(pk=data["id"])
    assert connection.protocol == Connection.Protocol.OIDC
    assert connection.state == Connection.State.ACTIVE
    assert connection.client_secret == CLIENT_SECRET
    assert data["redirect_uri"] == "http://testserver/sso/oidc/callback/"
    assert data["login_url"] == (
        f"http://testserver/sso/oidc/{connection.public_id}/login/"
    )
    assert connection.discovery["issuer"] == peer.issuer


def test_create_microsoft_connection_with_tenant_prints_summary(
    organization, entra, capsys
):
    call_command(
        "create_sso_connection",
        "acme",
        "--provider",
        "microsoft-oauth",
        "--issuer",
        f"{entra.base_url}/organizations/v2.0",
        "--client-id",
        "progression",
        "--client-secret",
        CLIENT_SECRET,
        "--tenant-id",
        TENANT,
    )

    out = capsys.readouterr().out
    connection = Connection.objects.get(organization=organization)
    assert connection.allowed_tenant_ids == [TENANT]
    assert f"redirect_uri: {connection.redirect_uri}" in out
    assert "Created OIDC connection" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--provider", "generic-oidc", "--client-id", "x"],
        ["--provider", "google-oauth", "--client-secret", "s"],
        ["--provider", "generic-oidc", "--client-id", "x", "--client-secret", "s"],
        [
            "--provider",
            "generic-oidc",
            "--issuer",
            "http://127.0.0.1:9",
            "--client-id",
            "x",
            "--client-secret",
            "s",
        ],
        [
            "--provider",
            "google-oauth",
            "--metadata-url",
            "https://idp.example/m",
            "--client-id",
            "x",
            "--client-secret",
            "s",
        ],
    ],
)
def test_create_oidc_connection_bad_input_changes_nothing(organization, peer, args):
    with pytest.raises(CommandError):
        call_command("create_sso_connection", "acme", *args)

    assert Connection.objects.count() == 0
