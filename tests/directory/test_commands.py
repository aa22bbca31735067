import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from directory.management.commands.create_directory import SCIM_GROUPS_LATER
from directory.models import Directory
from tests.directory.conftest import ScimClient


def test_create_directory_prints_base_url_and_working_token(entitled, client):
    out = StringIO()

    call_command(
        "create_directory",
        "acme",
        "--provider",
        "okta-scim-v2",
        "--activate",
        "--json",
        stdout=out,
    )

    data = json.loads(out.getvalue())
    directory = Directory.objects.get()
    assert data["base_url"].endswith(f"/scim/v2/{directory.public_id}")
    assert data["state"] == "active"
    assert ScimClient(client, directory, data["token"]).get("/Users").status_code == 200


def test_create_directory_without_activate_is_inactive(entitled):
    out = StringIO()

    call_command("create_directory", "acme", "--provider", "okta-scim-v1.1", stdout=out)

    assert "base_url: http" in out.getvalue()
    assert "/scim/v1/" in out.getvalue()
    assert Directory.objects.get().state == Directory.State.INACTIVE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme", "--provider", "nope"], "Unknown SCIM provider"),
        (["missing", "--provider", "okta-scim-v2"], "No organisation"),
        (["acme", "--provider", "okta-scim-v2", "--group", "Eng"], SCIM_GROUPS_LATER),
        (
            ["acme", "--provider", "okta-scim-v2", "--base-url", "https://x"],
            "--base-url",
        ),
    ],
)
def test_create_directory_bad_input_is_refused_and_creates_nothing(
    entitled, args, message
):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("create_directory", *args, stdout=StringIO())

    assert Directory.objects.count() == 0
