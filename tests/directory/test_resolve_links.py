import io
import json

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from directory.links import LINKS_BUSY, LOCK_NAMESPACE
from directory.links_queue import pending_store
from directory.models import DirectoryUser
from directory.models_links import LinkStatus
from directory.services import directory_create
from progression.models import User
from progression.services.teams import team_create
from tests.factories import UserFactory


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def synced(entitled):
    """A directory whose people were stored but never linked."""
    directory, _ = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    team_create(organization=entitled, name="Sales", actor=None)
    boss = UserFactory(organization=entitled, email="boss@acme.example")
    ada = UserFactory(organization=entitled, email="ada@acme.example")
    DirectoryUser.objects.create(directory=directory, user_name=boss.email, user=boss)
    DirectoryUser.objects.create(
        directory=directory,
        user_name=ada.email,
        user=ada,
        manager_ref=boss.email,
        department="sales",
        title="Lead",
    )
    return entitled


def test_resolve_links_links_people_and_prints_summary(synced):
    output = _run("resolve_links", synced.slug)

    ada = User.objects.get(email="ada@acme.example")
    assert (ada.manager.email, ada.team.name) == ("boss@acme.example", "Sales")
    assert output.startswith(f"Links of {synced.slug} resolved: 2 people, 1 changed")
    assert LinkStatus.objects.get(organization=synced).last_changed == 1


def test_resolve_links_json_reports_counts_and_clears_pending(synced):
    pending_store().add(synced.pk, [str(synced.users.first().pk)])

    data = json.loads(_run("resolve_links", synced.slug, "--json"))

    assert {k: data[k] for k in ("organization", "people", "changed", "issues")} == {
        "organization": synced.slug,
        "people": 2,
        "changed": 1,
        "issues": 1,
    }
    assert pending_store().claim(synced.pk).empty is True


def test_resolve_links_twice_changes_nothing_the_second_time(synced):
    _run("resolve_links", synced.slug)

    data = json.loads(_run("resolve_links", synced.slug, "--json"))

    assert data["changed"] == 0


def test_resolve_links_unknown_slug_refused(db):
    with pytest.raises(CommandError, match="No organisation has the slug 'nope'"):
        _run("resolve_links", "nope")


def test_resolve_links_while_another_run_holds_lock_refused(synced):
    db = connection.settings_dict
    dsn = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, synced.pk])

        with pytest.raises(CommandError, match=LINKS_BUSY):
            _run("resolve_links", synced.slug)

    ada = User.objects.get(email="ada@acme.example")
    assert ada.manager is None
