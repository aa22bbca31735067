"""Operator commands for HR directories: create_directory and sync_directory."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from directory.management.commands import create_directory, sync_directory
from directory.models import Directory, SyncRun
from directory.sync.setup import GROUPS_REQUIRED
from progression.models import User
from tests.directory.test_sync import (  # noqa: F401
    BambooHR,
    Google,
    _sync_test_settings,
    directory_for,
)
from tests.peers.hris.fixtures import bamboohr_fake, google_fake  # noqa: F401


@pytest.fixture
def hr(bamboohr_fake):  # noqa: F811
    hr = BambooHR(bamboohr_fake)
    hr.hire(1, "Ada", "Lovelace")
    hr.hire(2, "Grace", "Hopper")
    return hr


def _credentials_file(tmp_path, credentials) -> str:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(credentials))
    return str(path)


def test_create_directory_hr_provider_tests_and_activates(entitled, hr, tmp_path):
    out = StringIO()

    call_command(
        "create_directory",
        "acme",
        "--provider",
        "bamboohr",
        "--credentials-file",
        _credentials_file(tmp_path, hr.credentials()),
        "--base-url",
        hr.base_url(),
        "--activate",
        "--json",
        stdout=out,
    )

    data = json.loads(out.getvalue())
    directory = Directory.objects.get()
    assert (data["id"], data["state"]) == (directory.pk, "active")
    assert directory.credentials_data == hr.credentials()
    assert directory.api_base_url == hr.base_url()
    assert directory.next_sync_at is not None


def test_create_directory_google_with_groups(
    entitled,
    google_fake,  # noqa: F811
    tmp_path,
):
    google = Google(google_fake)

    call_command(
        "create_directory",
        "acme",
        "--provider",
        "google-workspace",
        "--credentials-file",
        _credentials_file(tmp_path, google.credentials()),
        "--base-url",
        google.base_url(),
        "--group",
        "staff@acme.example",
        "--activate",
        stdout=StringIO(),
    )

    directory = Directory.objects.get()
    assert directory.sync_groups == [
        {"id": "g-staff", "email": "staff@acme.example", "name": "Staff"}
    ]
    assert directory.state == Directory.State.ACTIVE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "bamboohr"], create_directory.CREDENTIALS_REQUIRED),
        (["--provider", "bamboohr", "--group", "x"], "--credentials-file"),
        (["--provider", "bamboohr", "--credentials-file", "/nonexistent"], "JSON"),
    ],
)
def test_create_directory_hr_bad_input_creates_nothing(entitled, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_directory", "acme", *args, stdout=StringIO())

    assert Directory.objects.count() == 0


def test_create_directory_hr_refused_credentials_create_nothing(entitled, hr, tmp_path):
    credentials = {**hr.credentials(), "api_key": "wrong"}

    with pytest.raises(CommandError, match="refused the credentials"):
        call_command(
            "create_directory",
            "acme",
            "--provider",
            "bamboohr",
            "--credentials-file",
            _credentials_file(tmp_path, credentials),
            "--base-url",
            hr.base_url(),
            "--activate",
            stdout=StringIO(),
        )

    assert Directory.objects.count() == 0


def test_create_directory_google_without_groups_is_not_activated(
    entitled,
    google_fake,  # noqa: F811
    tmp_path,
):
    google = Google(google_fake)

    with pytest.raises(CommandError, match=GROUPS_REQUIRED):
        call_command(
            "create_directory",
            "acme",
            "--provider",
            "google-workspace",
            "--credentials-file",
            _credentials_file(tmp_path, google.credentials()),
            "--base-url",
            google.base_url(),
            "--activate",
            stdout=StringIO(),
        )

    assert Directory.objects.count() == 0


def test_sync_directory_prints_counts_and_progress(entitled, hr):
    directory = directory_for(entitled, hr)
    out, err = StringIO(), StringIO()

    call_command("sync_directory", str(directory.pk), stdout=out, stderr=err)

    assert "2 created" in out.getvalue()
    assert "Applying [" + "#" * sync_directory.BAR_WIDTH + "] 2/2" in err.getvalue()
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.OPERATOR


def test_sync_directory_json(entitled, hr):
    directory = directory_for(entitled, hr)
    out = StringIO()

    call_command("sync_directory", str(directory.pk), "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert (data["state"], data["created"], data["unchanged"]) == ("succeeded", 2, 0)
    assert User.objects.filter(organization=entitled).count() == 2


@pytest.mark.parametrize("which", ["missing", "scim"])
def test_sync_directory_bad_directory_is_refused(entitled, which):
    from directory.services import directory_create

    scim, _ = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    pk = scim.pk if which == "scim" else 987654
    message = sync_directory.NOT_PULL if which == "scim" else sync_directory.NOT_FOUND

    with pytest.raises(CommandError, match=message.format(pk=pk)[:20]):
        call_command("sync_directory", str(pk), stdout=StringIO())

    assert SyncRun.objects.count() == 0


def test_sync_directory_failed_fetch_exits_non_zero(entitled, hr):
    directory = directory_for(entitled, hr)
    hr.fake.fail_listing_after(0)

    with pytest.raises(CommandError, match="Failed"):
        call_command("sync_directory", str(directory.pk), stdout=StringIO())

    assert User.objects.filter(organization=entitled).count() == 0
