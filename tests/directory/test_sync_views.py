"""The portal's HR-directory pages: setup, connection test, groups, syncs, approval."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from billing.entitlements import NO_SUBSCRIPTION_MESSAGE
from directory import views_sync
from directory.models import Directory, SyncRun
from directory.sync import directory_sync
from directory.sync.setup import GROUP_UNKNOWN, GROUPS_REQUIRED
from progression.models import User
from tests.directory.test_sync import (  # noqa: F401
    BambooHR,
    Google,
    Workday,
    _sync_test_settings,
    directory_for,
    stored_credentials,
)
from tests.peers.hris.fixtures import (  # noqa: F401
    bamboohr_fake,
    google_fake,
    workday_fake,
)


@pytest.fixture
def hr(bamboohr_fake):  # noqa: F811
    hr = BambooHR(bamboohr_fake)
    hr.hire(1, "Ada", "Lovelace")
    return hr


@pytest.fixture
def directory(entitled, hr):
    return directory_for(entitled, hr)


@pytest.fixture
def google(google_fake):  # noqa: F811
    google = Google(google_fake)
    google_fake.add_group("g-sales", "sales@acme.example", "Sales")
    google.hire(1, "Ada", "Lovelace")
    return google


@pytest.fixture
def held(entitled, hr):
    directory = directory_for(entitled, hr, archive_threshold_people=1)
    hr.hire(2, "Grace", "Hopper")
    hr.hire(3, "Alan", "Turing")
    directory_sync(directory=directory, trigger=SyncRun.Trigger.MANUAL)
    hr.terminate(2)
    hr.terminate(3)
    return directory_sync(directory=directory, trigger=SyncRun.Trigger.MANUAL)


def pages(directory, run):
    pk = directory.pk
    return [
        ("get", reverse("directory:detail", args=[pk])),
        ("post", reverse("directory:hr-credentials", args=[pk])),
        ("post", reverse("directory:hr-test", args=[pk])),
        ("get", reverse("directory:hr-groups", args=[pk])),
        ("post", reverse("directory:hr-activate", args=[pk])),
        ("post", reverse("directory:hr-schedule", args=[pk])),
        ("post", reverse("directory:sync-now", args=[pk])),
        ("get", reverse("directory:sync-run", args=[pk, run.pk])),
        ("get", reverse("directory:sync-progress", args=[pk, run.pk])),
        ("get", reverse("directory:sync-approve", args=[pk, run.pk])),
        ("post", reverse("directory:sync-approve", args=[pk, run.pk])),
    ]


def test_index_offers_hr_systems_apart_from_scim(admin_client, entitled):
    response = admin_client.get(reverse("directory:index"))

    content = response.content.decode()
    scim_form, hr_form = content.split("Connect an HR system")
    assert 'value="bamboohr"' not in scim_form
    assert 'value="google-workspace"' in hr_form


def test_create_shows_the_provider_guide(admin_client, entitled):
    response = admin_client.get(reverse("directory:hr-new"), {"provider": "hibob"})

    assert response.status_code == 200
    assert "Service users" in response.content.decode()


def test_create_saves_encrypted_credentials_inactive(admin_client, entitled, hr):
    response = admin_client.post(
        reverse("directory:hr-new"),
        {
            "provider": "bamboohr",
            "name": "People",
            "subdomain": "acme",
            "api_key": hr.fake.api_key,
            "base_url": hr.base_url(),
        },
    )

    directory = Directory.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("directory:detail", args=[directory.pk])
    assert (directory.name, directory.state) == ("People", Directory.State.INACTIVE)
    assert directory.credentials_data == hr.credentials()
    assert hr.fake.api_key not in stored_credentials(directory)


def test_create_from_the_scim_form_with_an_hr_provider_makes_no_token(
    admin_client, entitled
):
    admin_client.post(
        reverse("directory:create"), {"provider": "gusto", "company_uuid": ""}
    )

    assert Directory.objects.count() == 0


def test_create_workday_columns_must_be_json(
    admin_client,
    entitled,
    workday_fake,  # noqa: F811
):
    response = admin_client.post(
        reverse("directory:hr-new"),
        {
            "provider": "workday",
            "report_url": workday_fake.report_url,
            "username": "isu",
            "password": "pw",
            "columns": "not json",
        },
    )

    assert response.status_code == 200
    message = views_sync.JSON_INVALID.format(
        label="Columns (JSON: our field → report column)"
    )
    assert message in response.content.decode()
    assert Directory.objects.count() == 0


def test_create_missing_credential_changes_nothing(admin_client, entitled):
    response = admin_client.post(
        reverse("directory:hr-new"), {"provider": "bamboohr", "subdomain": "acme"}
    )

    assert "The credentials need api_key." in response.content.decode()
    assert Directory.objects.count() == 0


def test_create_unknown_provider_is_404(admin_client, entitled):
    response = admin_client.get(reverse("directory:hr-new"), {"provider": "nope"})

    assert response.status_code == 404


def test_create_not_entitled_is_refused(admin_client, organization):
    response = admin_client.post(
        reverse("directory:hr-new"),
        {"provider": "bamboohr", "subdomain": "acme", "api_key": "k"},
        follow=True,
    )

    assert NO_SUBSCRIPTION_MESSAGE in response.content.decode()
    assert Directory.objects.count() == 0


def test_detail_shows_history_and_never_the_secret(admin_client, directory, hr):
    directory_sync(directory=directory, trigger=SyncRun.Trigger.MANUAL)

    response = admin_client.get(reverse("directory:detail", args=[directory.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Sync history" in content
    assert "<td>1</td>" in content
    assert hr.fake.api_key not in content


def test_credentials_blank_secret_keeps_the_stored_one(admin_client, directory, hr):
    admin_client.post(
        reverse("directory:hr-credentials", args=[directory.pk]),
        {"subdomain": "acme", "api_key": "", "base_url": hr.base_url()},
    )

    directory.refresh_from_db()
    assert directory.credentials_data["api_key"] == hr.fake.api_key


@pytest.mark.parametrize("works", [True, False])
def test_test_connection_says_whether_it_works(admin_client, directory, hr, works):
    if not works:
        hr.fake.refuse_after(0)

    response = admin_client.post(
        reverse("directory:hr-test", args=[directory.pk]), follow=True
    )

    content = response.content.decode()
    assert (views_sync.CONNECTION_OK in content) is works
    assert ("refused the credentials" in content) is not works


def test_activate_google_needs_groups_first(admin_client, entitled, google):
    directory = directory_for(entitled, google, state=Directory.State.INACTIVE)
    directory.sync_groups = []
    directory.save()

    response = admin_client.post(
        reverse("directory:state", args=[directory.pk]),
        {"state": "active"},
        follow=True,
    )

    directory.refresh_from_db()
    assert GROUPS_REQUIRED in response.content.decode()
    assert directory.state == Directory.State.INACTIVE


def test_group_picker_lists_and_saves_groups(admin_client, entitled, google):
    directory = directory_for(entitled, google, state=Directory.State.INACTIVE)
    url = reverse("directory:hr-groups", args=[directory.pk])

    listed = admin_client.get(url)
    admin_client.post(url, {"groups": ["g-sales"]})

    assert "sales@acme.example" in listed.content.decode()
    directory.refresh_from_db()
    assert directory.sync_groups == [
        {"id": "g-sales", "email": "sales@acme.example", "name": "Sales"}
    ]


def test_group_picker_unknown_group_changes_nothing(admin_client, entitled, google):
    directory = directory_for(entitled, google, state=Directory.State.INACTIVE)

    response = admin_client.post(
        reverse("directory:hr-groups", args=[directory.pk]), {"groups": ["g-nope"]}
    )

    directory.refresh_from_db()
    assert escape(GROUP_UNKNOWN) in response.content.decode()
    assert [g["id"] for g in directory.sync_groups] == ["g-staff"]


def test_activate_tests_then_syncs(
    admin_client, entitled, google, django_capture_on_commit_callbacks
):
    directory = directory_for(entitled, google, state=Directory.State.INACTIVE)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("directory:hr-activate", args=[directory.pk])
        )

    run = SyncRun.objects.get(directory=directory)
    assert response.url == reverse("directory:sync-run", args=[directory.pk, run.pk])
    directory.refresh_from_db()
    assert directory.state == Directory.State.ACTIVE
    run.refresh_from_db()
    assert (run.state, run.created) == (SyncRun.State.SUCCEEDED, 1)


def test_sync_now_runs_and_shows_the_run(
    admin_client, directory, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("directory:sync-now", args=[directory.pk]), follow=True
        )

    run = SyncRun.objects.get(directory=directory)
    assert run.trigger == SyncRun.Trigger.MANUAL
    assert views_sync.SYNC_STARTED in response.content.decode()
    run.refresh_from_db()
    assert run.state == SyncRun.State.SUCCEEDED
    assert User.objects.filter(email="ada@acme.example").exists() is True


def test_sync_now_while_running_is_refused(admin_client, directory):
    SyncRun.objects.create(directory=directory, trigger=SyncRun.Trigger.SCHEDULE)

    response = admin_client.post(
        reverse("directory:sync-now", args=[directory.pk]), follow=True
    )

    assert views_sync.SYNC_BUSY in response.content.decode()
    assert SyncRun.objects.filter(directory=directory).count() == 1


def test_run_page_shows_progress_while_running(admin_client, directory):
    run = SyncRun.objects.create(
        directory=directory, trigger=SyncRun.Trigger.MANUAL, fetched=500, processed=200
    )

    page = admin_client.get(reverse("directory:sync-run", args=[directory.pk, run.pk]))
    progress = admin_client.get(
        reverse("directory:sync-progress", args=[directory.pk, run.pk])
    )

    assert '<progress data-field="bar" max="500" value="200">' in page.content.decode()
    assert progress.json()["fetched"] == 500
    assert progress.json()["state"] == "running"


def test_schedule_saves_and_refuses_bad_numbers(admin_client, directory):
    url = reverse("directory:hr-schedule", args=[directory.pk])

    admin_client.post(
        url, {"interval": "30", "threshold_percent": "5", "threshold_people": "10"}
    )
    bad = admin_client.post(
        url,
        {"interval": "x", "threshold_percent": "5", "threshold_people": "10"},
        follow=True,
    )

    directory.refresh_from_db()
    assert (
        directory.sync_interval_minutes,
        directory.archive_threshold_percent,
        directory.archive_threshold_people,
    ) == (30, 5, 10)
    assert views_sync.NUMBER_INVALID in bad.content.decode()


def test_approve_page_lists_who_would_be_archived_then_approves(
    admin_client, held, django_capture_on_commit_callbacks
):
    directory = held.directory
    url = reverse("directory:sync-approve", args=[directory.pk, held.pk])

    page = admin_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)

    assert "grace@acme.example" in page.content.decode()
    assert "alan@acme.example" in page.content.decode()
    approval = SyncRun.objects.filter(directory=directory).order_by("-id").first()
    assert response.url == reverse(
        "directory:sync-run", args=[directory.pk, approval.pk]
    )
    approval.refresh_from_db()
    assert (approval.trigger, approval.state, approval.archived) == (
        SyncRun.Trigger.APPROVAL,
        SyncRun.State.SUCCEEDED,
        2,
    )
    held.refresh_from_db()
    assert held.approved_by is not None


def test_approve_twice_is_refused(admin_client, held):
    url = reverse("directory:sync-approve", args=[held.directory.pk, held.pk])
    admin_client.post(url)

    response = admin_client.post(url, follow=True)

    assert "no longer waiting for approval" in response.content.decode()
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.APPROVAL).count() == 1


def test_pages_of_other_organization_are_404(
    admin_client, other_organization, hr, held
):
    foreign = directory_for(other_organization, hr)
    run = SyncRun.objects.create(directory=foreign, trigger=SyncRun.Trigger.MANUAL)
    own_directory_foreign_run = [
        ("get", reverse("directory:sync-run", args=[held.directory.pk, run.pk])),
        ("post", reverse("directory:sync-approve", args=[held.directory.pk, run.pk])),
    ]

    statuses = [
        getattr(admin_client, method)(url).status_code
        for method, url in pages(foreign, run) + own_directory_foreign_run
    ]

    assert statuses == [404] * 13
    assert SyncRun.objects.filter(directory=foreign).count() == 1


def test_pages_refuse_members(member_client, directory):
    run = SyncRun.objects.create(directory=directory, trigger=SyncRun.Trigger.MANUAL)

    statuses = [
        getattr(member_client, method)(url).status_code
        for method, url in pages(directory, run)
    ]

    assert statuses == [403] * 11
