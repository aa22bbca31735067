import json
import os
import signal

import pytest
import requests
from django.core.management import CommandError, call_command

from sso.models import Connection
from tests.peers.simplesamlphp.idp import free_port
from tests.sso.builder import signing_key
from tests.sso.test_portal import idp_metadata


@pytest.fixture
def files(tmp_path):
    cert = tmp_path / "idp.crt"
    cert.write_text(signing_key()[0])
    metadata = tmp_path / "idp.xml"
    metadata.write_text(idp_metadata(signing_key()[0]))
    return {"cert": str(cert), "metadata": str(metadata)}


def test_create_sso_connection_from_metadata_prints_urls(
    entitled, files, capsys, settings
):
    settings.PUBLIC_BASE_URL = "https://progression.example"

    call_command(
        "create_sso_connection",
        "acme",
        "--provider",
        "okta-saml",
        "--metadata-file",
        files["metadata"],
        "--allow-idp-initiated",
        "--activate",
        "--json",
    )

    data = json.loads(capsys.readouterr().out)
    connection = Connection.objects.get(pk=data["id"])
    assert connection.state == Connection.State.ACTIVE
    assert connection.allow_idp_initiated is True
    assert data["acs_url"] == connection.acs_url
    assert data["entity_id"] == connection.sp_entity_id
    assert data["metadata_url"] == connection.sp_metadata_url
    assert data["login_url"].startswith("https://progression.example/sso/saml/")
    assert data["idp_entity_id"] == "https://idp.example/meta"


def test_create_sso_connection_from_values_prints_summary(organization, files, capsys):
    call_command(
        "create_sso_connection",
        "acme",
        "--provider",
        "generic-saml",
        "--entity-id",
        "https://idp.example/e",
        "--sso-url",
        "https://idp.example/sso",
        "--cert-file",
        files["cert"],
    )

    out = capsys.readouterr().out
    connection = Connection.objects.get(organization=organization)
    assert connection.state == Connection.State.DRAFT
    assert f"login_url: {connection.login_url}" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--provider", "nope", "--metadata-file", "x"],
        ["--provider", "okta-saml"],
        ["--provider", "okta-saml", "--entity-id", "e", "--sso-url", "https://x.io"],
        ["--provider", "okta-saml", "--metadata-file", "/no/such/file"],
    ],
)
def test_create_sso_connection_bad_input_changes_nothing(organization, args):
    with pytest.raises(CommandError):
        call_command("create_sso_connection", "acme", *args)

    assert Connection.objects.count() == 0


def test_create_sso_connection_activate_without_entitlement_fails(organization, files):
    with pytest.raises(CommandError, match="not available"):
        call_command(
            "create_sso_connection",
            "acme",
            "--provider",
            "okta-saml",
            "--metadata-file",
            files["metadata"],
            "--activate",
        )

    assert Connection.objects.count() == 0


def test_create_sso_connection_unknown_organization_fails(db, files):
    with pytest.raises(CommandError, match="No organisation"):
        call_command(
            "create_sso_connection",
            "nope",
            "--provider",
            "okta-saml",
            "--metadata-file",
            files["metadata"],
        )


def test_sso_demo_connects_the_demo_organization_to_a_local_idp(
    transactional_db, tmp_path, capsys
):
    call_command("seed_demo")
    capsys.readouterr()
    port = free_port()

    try:
        call_command(
            "sso_demo", "--port", str(port), "--state-dir", str(tmp_path), "--json"
        )
        data = json.loads(capsys.readouterr().out)
        metadata = requests.get(
            f"http://127.0.0.1:{port}/saml2/idp/metadata.php", timeout=10
        )
    finally:
        pid = tmp_path / "pid"
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)

    connection = Connection.objects.get(pk=data["connection_id"])
    users = json.loads((tmp_path / "users.json").read_text())
    sps = json.loads((tmp_path / "sps.json").read_text())
    assert connection.state == Connection.State.ACTIVE
    assert connection.organization.slug == "acme"
    assert metadata.status_code == 200
    assert len(users) == data["people"] == connection.organization.users.count()
    assert sps[connection.sp_entity_id]["AssertionConsumerService"] == (
        connection.acs_url
    )
