"""Pull syncs against each provider's fake: the scenarios every provider must pass.

Each provider gets a small adapter that speaks in people (hire, terminate,
rehire, change an email, break the token) over its fake, so one scenario
runs against all five.
"""

import json

import pytest
from django.db import connection

from directory.connectors import http
from directory.links import links_resolve
from directory.models import Directory, DirectoryUser, SyncRun
from directory.sync import directory_sync, pull_directory_create, sync_run_approve
from directory.sync.safeguard import HELD_FOR_APPROVAL
from progression.models import AuditEvent, Team, User
from tests.peers.hris import bamboohr, google, gusto, hibob, workday
from tests.peers.hris.fixtures import (  # noqa: F401
    bamboohr_fake,
    google_fake,
    gusto_fake,
    hibob_fake,
    workday_fake,
)

PROVIDERS = ["bamboohr", "gusto", "hibob", "workday", "google-workspace"]


class Adapter:
    """One provider's fake, spoken to in people; ids are strings like "1"."""

    provider = ""

    def __init__(self, fake):
        self.fake = fake

    def credentials(self) -> dict:
        raise NotImplementedError

    def base_url(self) -> str:
        return self.fake.url

    def hire(self, pid, first, last, *, email="", manager=None, department=None):
        raise NotImplementedError

    def terminate(self, pid):
        raise NotImplementedError

    def rehire(self, pid):
        raise NotImplementedError

    def set_email(self, pid, email):
        raise NotImplementedError

    def rename(self, pid, first):
        raise NotImplementedError

    def expire_token(self, calls):
        """The credentials stop working after `calls` more requests."""
        self.fake.refuse_after(len(self.fake.requests) + calls)

    def fail_halfway(self):
        """The next fetch breaks after its first listing request."""
        self.fake.fail_listing_after(self.fake.listing_requests)

    def key(self, pid) -> str:
        """The user_name the connector gives person `pid`."""
        return str(pid)


class SingleAnswer(Adapter):
    """A provider that answers the whole directory in one request."""

    def expire_token(self, calls):
        # The one listing request is the middle of the sync.
        self.fake.refuse_after(len(self.fake.requests))


class BambooHR(SingleAnswer):
    provider = "bamboohr"

    def credentials(self):
        return {"subdomain": self.fake.subdomain, "api_key": self.fake.api_key}

    def hire(self, pid, first, last, *, email="", manager=None, department=None):
        self.fake.add(
            bamboohr.employee(
                pid,
                first,
                last,
                email,
                supervisorEId=None if manager is None else str(manager),
                department=department,
            )
        )

    def terminate(self, pid):
        self.fake.get(pid).update(status="Inactive", terminationDate="2024-01-31")

    def rehire(self, pid):
        self.fake.get(pid).update(
            status="Active", hireDate="2025-03-01", terminationDate="0000-00-00"
        )

    def set_email(self, pid, email):
        self.fake.get(pid)["workEmail"] = email

    def rename(self, pid, first):
        self.fake.get(pid)["firstName"] = first


class Gusto(Adapter):
    provider = "gusto"

    def __init__(self, fake):
        super().__init__(fake)
        self.tokens = fake.issue()
        self.uuids = {}

    def credentials(self):
        return {
            "company_uuid": self.fake.company_uuid,
            "client_id": self.fake.client_id,
            "client_secret": self.fake.client_secret,
            **self.tokens,
        }

    def key(self, pid):
        return self.uuids[pid]

    def hire(self, pid, first, last, *, email="", manager=None, department=None):
        record = gusto.employee(
            first,
            last,
            uuid=f"00000000-0000-4000-8000-{int(pid):012d}",
            department=department,
            manager_uuid=None if manager is None else self.uuids[manager],
        )
        if email:
            record["work_email"] = email
        self.uuids[pid] = record["uuid"]
        self.fake.add(record)

    def terminate(self, pid):
        self.fake.get(self.uuids[pid]).update(
            terminated=True,
            terminations=[{"effective_date": "2024-01-31", "active": True}],
        )

    def rehire(self, pid):
        self.fake.get(self.uuids[pid]).update(terminated=False)

    def set_email(self, pid, email):
        self.fake.get(self.uuids[pid])["work_email"] = email

    def rename(self, pid, first):
        self.fake.get(self.uuids[pid])["first_name"] = first

    def expire_token(self, calls):
        # The access token dies; the refresh token still works.
        self.fake.expire_tokens_after(calls)


class HiBob(Adapter):
    provider = "hibob"

    def credentials(self):
        return {"service_user_id": self.fake.service_user_id, "token": self.fake.token}

    def hire(self, pid, first, last, *, email="", manager=None, department=None):
        fields = {"work__department": department}
        if manager is not None:
            fields["work__reportsTo"] = hibob.reports_to(self.fake.get(manager))
        self.fake.add(hibob.employee(pid, first, last, email=email, **fields))

    def terminate(self, pid):
        self.fake.get(pid)["internal.status"] = "Inactive"

    def rehire(self, pid):
        self.fake.get(pid)["internal.status"] = "Active"

    def set_email(self, pid, email):
        self.fake.get(pid)["root.email"] = email

    def rename(self, pid, first):
        self.fake.get(pid)["root.firstName"] = first


class Workday(SingleAnswer):
    provider = "workday"

    def credentials(self):
        return {
            "report_url": self.fake.report_url,
            "username": self.fake.username,
            "password": self.fake.password,
            "columns": dict(workday.COLUMNS),
        }

    def base_url(self):
        return ""

    def hire(self, pid, first, last, *, email="", manager=None, department=None):
        fields = {"department": department, "manager_id": manager}
        if email:
            fields["email"] = email
        self.fake.add(
            workday.worker(
                pid, first, last, **{k: v for k, v in fields.items() if v is not None}
            )
        )

    def terminate(self, pid):
        self.fake.get(pid)["active"] = "0"

    def rehire(self, pid):
        self.fake.get(pid)["active"] = "1"

    def set_email(self, pid, email):
        self.fake.get(pid)["email"] = email

    def rename(self, pid, first):
        self.fake.get(pid)["first_name"] = first


class Google(Adapter):
    provider = "google-workspace"
    group = "g-staff"

    def __init__(self, fake):
        super().__init__(fake)
        fake.add_group(self.group, "staff@acme.example", "Staff")
        self.consent = fake.oauth_client()

    def credentials(self):
        return dict(self.consent)

    def hire(self, pid, first, last, *, email="", manager=None, department=None):
        fields = {}
        if manager is not None:
            manager_email = self.fake.get_user(manager)["primaryEmail"]
            fields["relations"] = [{"type": "manager", "value": manager_email}]
        if department is not None:
            fields["organizations"] = [{"primary": True, "department": department}]
        self.fake.add_users(google.user(pid, first, last, email=email, **fields))
        self.fake.members[self.group].append(("USER", str(pid)))

    def terminate(self, pid):
        self.fake.get_user(pid)["suspended"] = True

    def rehire(self, pid):
        self.fake.get_user(pid)["suspended"] = False

    def set_email(self, pid, email):
        self.fake.get_user(pid)["primaryEmail"] = email

    def rename(self, pid, first):
        self.fake.get_user(pid)["name"]["givenName"] = first

    def expire_token(self, calls):
        self.fake.expire_tokens_after(calls)


ADAPTERS = {
    "bamboohr": (BambooHR, "bamboohr_fake"),
    "gusto": (Gusto, "gusto_fake"),
    "hibob": (HiBob, "hibob_fake"),
    "workday": (Workday, "workday_fake"),
    "google-workspace": (Google, "google_fake"),
}


@pytest.fixture(autouse=True)
def _sync_test_settings(settings, monkeypatch):
    """Reach the fakes on 127.0.0.1, and back off in milliseconds."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(http, "RETRY_BACKOFF", 0.01)


@pytest.fixture(params=PROVIDERS)
def hr(request):
    adapter, fixture = ADAPTERS[request.param]
    return adapter(request.getfixturevalue(fixture))


def directory_for(organization, hr, **fields) -> Directory:
    directory = pull_directory_create(
        organization=organization,
        provider=hr.provider,
        credentials=hr.credentials(),
        base_url=hr.base_url(),
        actor="operator",
    )
    if hr.provider == "google-workspace":
        directory.sync_groups = [
            {"id": hr.group, "email": "staff@acme.example", "name": "Staff"}
        ]
    directory.state = Directory.State.ACTIVE
    for name, value in fields.items():
        setattr(directory, name, value)
    directory.save()
    return directory


@pytest.fixture
def directory(entitled, hr):
    # Small directories: one termination must not look like a mass archive.
    return directory_for(entitled, hr, archive_threshold_percent=100)


def sync(directory, trigger=SyncRun.Trigger.MANUAL, **kwargs) -> SyncRun:
    directory.refresh_from_db()
    return directory_sync(directory=directory, trigger=trigger, **kwargs)


def person(hr, directory, pid) -> User:
    return DirectoryUser.objects.get(directory=directory, user_name=hr.key(pid)).user


def stored_credentials(directory) -> str:
    """The credentials column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT credentials FROM {Directory._meta.db_table} WHERE id = %s",  # noqa: S608
            [directory.pk],
        )
        return cursor.fetchone()[0]


def counts(run):
    return (run.created, run.updated, run.archived, run.reactivated, run.unchanged)


def people_state(organization):
    return sorted(
        User.objects.filter(organization=organization).values_list(
            "email", "first_name", "status"
        )
    )


def test_sync_first_sync_creates_everyone(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    hr.hire(2, "Grace", "Hopper")

    run = sync(directory)

    assert run.state == SyncRun.State.SUCCEEDED
    assert counts(run) == (2, 0, 0, 0, 0)
    ada = person(hr, directory, 1)
    assert (ada.email, ada.first_name, ada.last_name) == (
        "ada@acme.example",
        "Ada",
        "Lovelace",
    )
    assert ada.source == User.Source.DIRECTORY
    assert AuditEvent.objects.filter(action="user.created").count() == 2
    assert run.finished_at is not None


def test_sync_update_changes_only_that_person(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    hr.hire(2, "Grace", "Hopper")
    sync(directory)
    hr.rename(1, "Augusta")

    run = sync(directory)

    assert counts(run) == (0, 1, 0, 0, 1)
    assert person(hr, directory, 1).first_name == "Augusta"
    (event,) = AuditEvent.objects.filter(action="user.updated")
    assert (event.before, event.after) == (
        {"first_name": "Ada"},
        {"first_name": "Augusta"},
    )


def test_sync_run_twice_changes_nothing_the_second_time(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    sync(directory)
    events = AuditEvent.objects.count()

    run = sync(directory)

    assert counts(run) == (0, 0, 0, 0, 1)
    assert AuditEvent.objects.count() == events


def test_sync_termination_archives_the_person(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    hr.hire(2, "Grace", "Hopper")
    sync(directory)
    hr.terminate(2)

    run = sync(directory)

    assert counts(run) == (0, 0, 1, 0, 1)
    grace = person(hr, directory, 2)
    assert grace.status == User.Status.ARCHIVED
    assert person(hr, directory, 1).status == User.Status.ACTIVE


def test_sync_rehire_reactivates_the_same_account(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    hr.hire(2, "Grace", "Hopper")
    sync(directory)
    first_account = person(hr, directory, 2).pk
    hr.terminate(2)
    sync(directory)
    hr.rehire(2)

    run = sync(directory)

    assert run.reactivated == 1
    grace = person(hr, directory, 2)
    assert (grace.pk, grace.status) == (first_account, User.Status.ACTIVE)


def test_sync_email_change_keeps_the_same_person(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    sync(directory)
    account = person(hr, directory, 1).pk
    hr.set_email(1, "ada.lovelace@acme.example")

    run = sync(directory)

    assert counts(run) == (0, 1, 0, 0, 0)
    ada = person(hr, directory, 1)
    assert (ada.pk, ada.email) == (account, "ada.lovelace@acme.example")


def test_sync_email_taken_by_another_person_is_refused_for_that_person(
    hr, directory, admin
):
    hr.hire(1, "Ada", "Lovelace", email="admin@acme.example")
    hr.hire(2, "Grace", "Hopper")

    run = sync(directory)

    assert (run.state, run.created, run.failed) == (SyncRun.State.SUCCEEDED, 1, 1)
    assert run.problems == [
        {
            "user_name": hr.key(1),
            "code": "email_taken",
            "message": "Another person already uses this email address.",
        }
    ]
    assert person(hr, directory, 1) is None


@pytest.mark.parametrize("manager_first", [True, False])
def test_sync_manager_linked_whichever_comes_first(request, entitled, manager_first):
    # The fakes list people in the order they were added.
    for provider in PROVIDERS:
        adapter, fixture = ADAPTERS[provider]
        hr = adapter(request.getfixturevalue(fixture))
        directory = directory_for(entitled, hr, name=provider)
        base = 100 * (PROVIDERS.index(provider) + 1)
        boss, report = base + 1, base + 2
        email = f"boss{base}@acme.example"
        if manager_first:
            hr.hire(boss, "Boss", "One", email=email)
            hr.hire(
                report, "Report", "Two", email=f"r{base}@acme.example", manager=boss
            )
        else:
            # The report is listed first, naming a manager listed after them.
            hr.hire(report, "Report", "Two", email=f"r{base}@acme.example")
            hr.hire(boss, "Boss", "One", email=email)
            _name_manager(hr, report, boss)

        sync(directory)
        links_resolve(organization=entitled, user_ids=None)

        assert person(hr, directory, report).manager.email == email, provider


def _name_manager(hr, report, boss):
    """Point `report` at `boss` after both exist in the fake."""
    if isinstance(hr, BambooHR):
        hr.fake.get(report)["supervisorEId"] = str(boss)
    elif isinstance(hr, Gusto):
        hr.fake.get(hr.uuids[report])["manager_uuid"] = hr.uuids[boss]
    elif isinstance(hr, HiBob):
        hr.fake.get(report)["work.reportsTo"] = hibob.reports_to(hr.fake.get(boss))
    elif isinstance(hr, Workday):
        hr.fake.get(report)["manager_id"] = str(boss)
    else:
        boss_email = hr.fake.get_user(boss)["primaryEmail"]
        hr.fake.get_user(report)["relations"] = [
            {"type": "manager", "value": boss_email}
        ]


def test_sync_unknown_department_is_kept_then_linked_when_team_appears(
    hr, directory, entitled
):
    hr.hire(1, "Ada", "Lovelace", department="Research")

    sync(directory)
    links_resolve(organization=entitled, user_ids=None)

    ada = person(hr, directory, 1)
    assert ada.team is None
    record = DirectoryUser.objects.get(directory=directory, user_name=hr.key(1))
    assert record.department == "Research"
    team = Team.objects.create(organization=entitled, name="Research")
    links_resolve(organization=entitled, user_ids=None)
    ada.refresh_from_db()
    assert ada.team == team


def test_sync_token_expiring_mid_sync(hr, directory):
    for pid in range(1, 4):
        hr.hire(pid, f"P{pid}", "Person", email=f"p{pid}@acme.example")
    sync(directory)
    hr.rename(3, "Changed")
    hr.expire_token(1)

    run = sync(directory)

    directory.refresh_from_db()
    if hr.provider in {"gusto", "google-workspace"}:
        # OAuth providers: the token is renewed and the sync goes on.
        assert run.state == SyncRun.State.SUCCEEDED
        assert person(hr, directory, 3).first_name == "Changed"
        assert directory.state == Directory.State.ACTIVE
    else:
        # Static credentials that stop working: the directory needs a person.
        assert (run.state, run.error_code) == (SyncRun.State.FAILED, "auth_refused")
        assert person(hr, directory, 3).first_name == "P3"
        assert directory.state == Directory.State.ATTENTION
        assert directory.attention_message == run.error_message


def test_sync_gusto_rotated_tokens_are_saved_even_when_the_sync_fails(
    entitled,
    gusto_fake,  # noqa: F811
):
    hr = Gusto(gusto_fake)
    hr.hire(1, "Ada", "Lovelace")
    directory = directory_for(entitled, hr)
    gusto_fake.expire_tokens_after(0)
    # The refused first page counts; the one after the token exchange fails.
    gusto_fake.fail_listing_after(1)

    run = sync(directory)

    directory.refresh_from_db()
    saved = directory.credentials_data
    assert run.state == SyncRun.State.FAILED
    assert saved["refresh_token"] != hr.tokens["refresh_token"]
    assert saved["refresh_token"] in gusto_fake.refresh_tokens
    assert saved["refresh_token"] not in stored_credentials(directory)


def test_sync_fetch_failing_halfway_changes_nothing(hr, directory, entitled):
    for pid in range(1, 4):
        hr.hire(pid, f"P{pid}", "Person", email=f"p{pid}@acme.example")
    sync(directory)
    before = people_state(entitled)
    events = AuditEvent.objects.count()
    hr.rename(1, "Changed")
    hr.terminate(2)
    hr.hire(9, "New", "Hire", email="new@acme.example")
    hr.fail_halfway()

    run = sync(directory)

    assert run.state == SyncRun.State.FAILED
    assert people_state(entitled) == before
    assert AuditEvent.objects.count() == events
    assert DirectoryUser.objects.filter(directory=directory).count() == 3


def test_sync_mass_archive_waits_for_approval(hr, entitled):
    directory = directory_for(entitled, hr)
    for pid in range(1, 12):
        hr.hire(pid, f"P{pid}", "Person", email=f"p{pid}@acme.example")
    sync(directory)
    hr.terminate(1)
    hr.terminate(2)
    hr.hire(20, "New", "Hire", email="new@acme.example")

    held = sync(directory)

    assert held.state == SyncRun.State.AWAITING_APPROVAL
    assert held.error_message == HELD_FOR_APPROVAL % {"count": 2, "active": 11}
    assert held.archived == 0
    assert sorted(entry["email"] for entry in held.pending_archive) == [
        "p1@acme.example",
        "p2@acme.example",
    ]
    assert User.objects.filter(status=User.Status.ARCHIVED).count() == 0
    # Everything but the archive went through.
    assert person(hr, directory, 20).status == User.Status.ACTIVE

    approval = sync_run_approve(run=held, actor="operator")
    from directory.sync import sync_run_execute

    done = sync_run_execute(run=approval)

    assert (done.state, done.archived) == (SyncRun.State.SUCCEEDED, 2)
    assert person(hr, directory, 1).status == User.Status.ARCHIVED
    held.refresh_from_db()
    assert held.state == SyncRun.State.SUPERSEDED


def test_sync_people_no_longer_listed_are_archived(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    hr.hire(2, "Grace", "Hopper")
    sync(directory)
    _unlist(hr, 2)

    run = sync(directory)

    assert counts(run) == (0, 0, 1, 0, 1)
    grace = person(hr, directory, 2)
    assert grace.status == User.Status.ARCHIVED
    assert grace.archived_reason == "No longer listed by the directory."


def test_sync_person_listed_again_is_reactivated(hr, directory):
    hr.hire(1, "Ada", "Lovelace")
    hr.hire(2, "Grace", "Hopper")
    sync(directory)
    account = person(hr, directory, 2).pk
    if isinstance(hr, Google):
        hr.fake.members[hr.group].remove(("USER", "2"))
        sync(directory)
        hr.fake.members[hr.group].append(("USER", "2"))
    else:
        gone = hr.fake.get(hr.key(2))
        _unlist(hr, 2)
        sync(directory)
        hr.fake.add(gone)

    run = sync(directory)

    grace = person(hr, directory, 2)
    assert (run.reactivated, grace.pk, grace.status) == (1, account, "active")


def _unlist(hr, pid):
    if isinstance(hr, Google):
        hr.fake.members[hr.group].remove(("USER", str(pid)))
        return
    people = {
        BambooHR: lambda: hr.fake.employees,
        Gusto: lambda: hr.fake.employees,
        HiBob: lambda: hr.fake.employees,
        Workday: lambda: hr.fake.workers,
    }[type(hr)]()
    gone = hr.fake.get(hr.key(pid))
    people.remove(gone)


def test_sync_not_entitled_is_skipped_and_changes_nothing(organization, hr):
    directory = directory_for(organization, hr)
    hr.hire(1, "Ada", "Lovelace")

    run = sync(directory)

    assert (run.state, run.error_code) == (SyncRun.State.SKIPPED, "no_subscription")
    assert User.objects.filter(organization=organization).count() == 0
    assert hr.fake.requests == []


def test_sync_credentials_are_encrypted_at_rest(
    entitled,
    bamboohr_fake,  # noqa: F811
):
    directory = directory_for(entitled, BambooHR(bamboohr_fake))

    raw = stored_credentials(directory)

    assert bamboohr_fake.api_key not in raw
    assert json.loads(Directory.objects.get(pk=directory.pk).credentials) == {
        "subdomain": "acme",
        "api_key": bamboohr_fake.api_key,
    }


def test_sync_wrong_credentials_mark_directory_needing_attention(
    entitled,
    bamboohr_fake,  # noqa: F811
):
    hr = BambooHR(bamboohr_fake)
    hr.hire(1, "Ada", "Lovelace")
    directory = directory_for(entitled, hr)
    directory.credentials = json.dumps({"subdomain": "acme", "api_key": "wrong"})
    directory.save()

    run = sync(directory)

    directory.refresh_from_db()
    assert (run.state, run.error_code) == (SyncRun.State.FAILED, "auth_refused")
    assert directory.state == Directory.State.ATTENTION
    assert AuditEvent.objects.filter(action="directory.needs_attention").count() == 1
    assert User.objects.filter(organization=entitled).count() == 0


def test_sync_while_another_runs_returns_none(hr, directory):
    SyncRun.objects.create(directory=directory, trigger=SyncRun.Trigger.SCHEDULE)

    assert sync(directory) is None
