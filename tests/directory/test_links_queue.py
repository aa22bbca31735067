import pytest
from django.conf import settings
from django.db import connection

from directory.links import links_resolve
from directory.links_queue import (
    EVERYONE,
    FULL_RUN_ABOVE,
    MemoryPending,
    RedisPending,
    links_request,
    links_sweep,
    pending_store,
)
from directory.links_statements import manager_named_probe
from directory.models import DirectoryUser
from directory.models_links import LinkIssue, LinkStatus
from directory.services import directory_create
from tests.factories import UserFactory


@pytest.fixture(params=["redis", "memory"])
def store(request):
    if request.param == "memory":
        return MemoryPending()
    return RedisPending(settings.REDIS_URL, f"tests-links-{request.node.name}")


def _clean(store, organization_id):
    store.done(organization_id, store.claim(organization_id))
    store.clear_queued(organization_id)


def test_pending_claim_takes_what_was_noted(store):
    _clean(store, 1)
    store.add(1, ["3", "5"])
    store.add(1, ["5", "8"])

    claim = store.claim(1)

    assert claim.user_ids == [3, 5, 8]


def test_pending_everyone_claims_whole_organization(store):
    _clean(store, 1)
    store.add(1, ["3"])
    store.add(1, [EVERYONE])

    assert store.claim(1).user_ids is None


def test_pending_many_people_claim_whole_organization(store):
    _clean(store, 1)
    store.add(1, [str(n) for n in range(FULL_RUN_ABOVE + 1)])

    assert store.claim(1).user_ids is None


def test_pending_done_keeps_what_was_noted_during_the_run(store):
    _clean(store, 1)
    store.add(1, ["3", "5"])
    claim = store.claim(1)
    store.add(1, ["5", "9"])

    store.done(1, claim)

    assert store.claim(1).user_ids == [5, 9]


def test_pending_organizations_apart(store):
    _clean(store, 1)
    _clean(store, 2)
    store.add(1, ["3"])

    assert (store.claim(1).user_ids, store.claim(2).empty) == ([3], True)


def test_pending_queued_marker_once_until_cleared(store):
    _clean(store, 1)

    first, second = store.mark_queued(1), store.mark_queued(1)
    store.clear_queued(1)

    assert (first, second, store.mark_queued(1)) == (True, False, True)


def test_pending_add_if_queued_notes_only_while_a_run_is_queued(store):
    _clean(store, 1)

    before = store.add_if_queued(1, ["3"])
    store.mark_queued(1)
    during = store.add_if_queued(1, ["5"])

    assert (before, during) == (False, True)
    assert store.claim(1).user_ids == [5]


def test_links_request_without_directory_queues_nothing(organization):
    queued = links_request(organization_id=organization.pk, user_ids=[1])

    assert queued is False
    assert pending_store().claim(organization.pk).empty is True


def test_links_sweep_resolves_what_a_killed_run_left(entitled):
    directory, _ = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    boss = UserFactory(organization=entitled, email="boss@acme.example")
    ada = UserFactory(organization=entitled, email="ada@acme.example")
    DirectoryUser.objects.create(directory=directory, user_name=boss.email, user=boss)
    DirectoryUser.objects.create(
        directory=directory, user_name=ada.email, user=ada, manager_ref=boss.email
    )
    pending_store().add(entitled.pk, [str(ada.pk)])

    swept = links_sweep()

    ada.refresh_from_db()
    assert swept >= 1
    assert ada.manager == boss
    assert LinkStatus.objects.get(organization=entitled).runs == 1
    assert pending_store().claim(entitled.pk).empty is True


def _unmatched_report(organization):
    """A person whose manager reference matched no one when links last ran."""
    directory, _ = directory_create(
        organization=organization, provider="okta-scim-v2", actor="operator"
    )
    ada = UserFactory(organization=organization, email="ada@acme.example")
    DirectoryUser.objects.create(
        directory=directory,
        user_name=ada.email,
        user=ada,
        manager_ref="boss@acme.example",
    )
    links_resolve(organization=organization, user_ids=[ada.pk])
    return ada


def test_links_sweep_links_a_manager_who_arrived_unnoticed(entitled):
    ada = _unmatched_report(entitled)
    # Created without a note, as when the manager's create and a run crossed.
    boss = UserFactory(organization=entitled, email="Boss@acme.example")

    links_sweep()

    ada.refresh_from_db()
    assert ada.manager == boss
    assert LinkIssue.objects.filter(organization=entitled).exists() is False


def test_links_sweep_leaves_references_that_still_match_no_one(entitled):
    _unmatched_report(entitled)
    runs = LinkStatus.objects.get(organization=entitled).runs

    links_sweep()

    assert LinkStatus.objects.get(organization=entitled).runs == runs
    assert LinkIssue.objects.filter(organization=entitled).count() == 1


def test_pending_store_is_one_per_process(monkeypatch):
    from directory import links_queue

    first = pending_store()
    assert isinstance(first, RedisPending)
    assert pending_store() is first

    # After a fork the child opens its own connection instead of sharing its
    # parent's.
    monkeypatch.setattr(links_queue.os, "getpid", lambda: first.pid + 1)
    child = pending_store()

    assert child is not first
    assert child.pid == first.pid + 1
    child.add(1, ["7"])
    assert "7" in {str(pk) for pk in child.claim(1).user_ids}
    _clean(child, 1)


def test_redis_store_serves_threads_in_turn(store):
    import threading

    _clean(store, 2)
    threads = [
        threading.Thread(target=store.add, args=(2, [str(n)])) for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert store.claim(2).user_ids == list(range(20))
    _clean(store, 2)


def test_manager_named_probe_uses_the_reference_index(entitled):
    directory, _ = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    probe = manager_named_probe(
        directory_id=directory.pk, email="boss@acme.example", external_id="E-1"
    )

    with connection.cursor() as cursor:
        # On a table this small a scan is cheaper; the index must still be
        # one the planner can take, so its expression matches the probe's.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {probe.sql}", probe.params)
        plan = [row[0] for row in cursor.fetchall()]

    # The index is searched for the names, not read whole.
    scan = next(i for i, line in enumerate(plan) if "diruser_manager_name_idx" in line)
    assert "Index Cond" in plan[scan + 1]
