"""Link resolution in real Celery workers consuming from Redis.

SCIM requests go through the test client; their commits queue coalesced runs
that a worker process takes from Redis. The data must be committed for the
worker to see it, so these tests are transactional.
"""

import os
import signal
import time
from contextlib import contextmanager

import psycopg
import pytest
from celery.exceptions import Retry
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client

from directory.links import AUDIT_ACTION, LOCK_NAMESPACE, LinksBusyError, links_resolve
from directory.links_queue import coalesce_seconds, links_request, pending_store
from directory.models import DirectoryUser
from directory.models_links import LinkIssue, LinkStatus
from directory.services import directory_create
from directory.tasks import resolve_links_task
from progression.celery import app as celery_app
from progression.models import AuditEvent, User
from progression.services.teams import position_create, position_rename, team_create
from tests.directory.conftest import ScimClient, user_body
from tests.workers import wait_until, worker_start


def _dsn() -> str:
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@contextmanager
def _people_rows_locked(organization):
    """Hold a lock on the organisation's people from another connection."""
    with psycopg.connect(_dsn()) as blocker:
        blocker.execute(
            "SELECT id FROM progression_user WHERE organization_id = %s FOR UPDATE",
            [organization.pk],
        )
        yield blocker
        blocker.rollback()


def _waiting_for_people_rows() -> bool:
    """Say whether some connection waits to update people rows."""
    with psycopg.connect(_dsn(), autocommit=True) as observer:
        row = observer.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE '%%UPDATE progression_user%%'"
        ).fetchone()
    return row[0] > 0


def _runs(organization) -> int:
    status = LinkStatus.objects.filter(organization=organization).first()
    return 0 if status is None else status.runs


def _nothing_pending(organization) -> bool:
    return pending_store().claim(organization.pk).empty


def _scim(entitled):
    directory, token = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    return ScimClient(Client(), directory, token)


def _post(scim, user_name, **extra):
    response = scim.post("/Users", user_body(user_name, **extra))
    assert response.status_code == 201, response.content
    return DirectoryUser.objects.get(scim_id=response.json()["id"])


def _with_manager(value, department="Sales"):
    return {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "manager": {"value": value},
            "department": department,
        },
    }


def test_resolve_links_burst_of_requests_coalesced_into_few_runs(
    celery_worker, entitled
):
    scim = _scim(entitled)
    sales = team_create(organization=entitled, name="Sales", actor=None)
    started = time.monotonic()
    reports = [
        _post(scim, f"person{n}@acme.example", **_with_manager("boss@acme.example"))
        for n in range(150)
    ]

    boss = _post(scim, "boss@acme.example")

    burst = time.monotonic() - started
    wait_until(
        lambda: (
            User.objects.filter(manager_id=boss.user_id, team=sales).count()
            == len(reports)
            and _nothing_pending(entitled)
        ),
        timeout=60,
    )
    # At most one run starts per coalescing window, whatever the requests.
    windows = int(burst / coalesce_seconds()) + 2
    assert 1 <= _runs(entitled) <= min(windows, len(reports) // 10)
    assert LinkIssue.objects.filter(organization=entitled).count() == 0


def test_resolve_links_run_again_changes_nothing(celery_worker, entitled):
    scim = _scim(entitled)
    boss = _post(scim, "boss@acme.example")
    _post(scim, "ada@acme.example", **_with_manager(str(boss.scim_id)))
    wait_until(lambda: User.objects.filter(manager_id=boss.user_id).exists())
    wait_until(lambda: _nothing_pending(entitled))
    runs, events = _runs(entitled), AuditEvent.objects.count()

    links_request(organization_id=entitled.pk, user_ids=None)
    wait_until(lambda: _runs(entitled) == runs + 1)

    status = LinkStatus.objects.get(organization=entitled)
    assert status.last_changed == 0
    assert AuditEvent.objects.count() == events


def test_resolve_links_waits_while_another_run_holds_the_lock(celery_worker, entitled):
    scim = _scim(entitled)
    sales = team_create(organization=entitled, name="Sales", actor=None)
    wait_until(lambda: _nothing_pending(entitled))

    with psycopg.connect(_dsn(), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, entitled.pk])
        ada = _post(scim, "ada@acme.example", **_with_manager("nobody@acme.example"))
        held = wait_until_false(
            lambda: User.objects.filter(pk=ada.user_id, team=sales).exists(), 6
        )
        holder.execute(
            "SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, entitled.pk]
        )
        wait_until(lambda: User.objects.filter(pk=ada.user_id, team=sales).exists())

    assert held is True


def wait_until_false(condition, seconds) -> bool:
    """Say whether `condition` stayed false for `seconds`."""
    try:
        wait_until(condition, timeout=seconds)
    except pytest.fail.Exception:
        return True
    return False


def test_links_resolve_refuses_while_lock_held(entitled):
    with psycopg.connect(_dsn(), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, entitled.pk])

        with pytest.raises(LinksBusyError):
            links_resolve(organization=entitled)


def test_resolve_links_task_for_missing_organization_returns_quietly(db):
    pending_store().add(987_654_321, ["*"])

    result = resolve_links_task.delay(987_654_321).get()

    assert result is None
    assert pending_store().claim(987_654_321).empty is True


@pytest.mark.django_db(transaction=True)
def test_resolve_links_worker_killed_mid_run_next_run_completes(entitled, monkeypatch):
    queue = f"links-kill-{os.getpid()}"
    monkeypatch.setattr(celery_app.conf, "task_default_queue", queue)
    monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
    worker = worker_start(queue=queue)
    try:
        scim = _scim(entitled)
        people = [_post(scim, "p0@acme.example", **_with_manager(""))]
        people += [
            _post(scim, f"p{n}@acme.example", **_with_manager("p0@acme.example"))
            for n in range(1, 20)
        ]
        wait_until(lambda: _runs(entitled) >= 1 and _nothing_pending(entitled))
        runs = _runs(entitled)

        with _people_rows_locked(entitled):
            team_create(organization=entitled, name="Sales", actor=None)
            wait_until(_waiting_for_people_rows)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        wait_until(lambda: not _waiting_for_people_rows())
        after_kill = (
            User.objects.filter(team__name="Sales").count(),
            _runs(entitled),
            pending_store().claim(entitled.pk).user_ids,
        )
        worker = worker_start(queue=queue)
        wait_until(
            lambda: User.objects.filter(team__name="Sales").count() == len(people),
            timeout=30,
        )
    finally:
        worker.kill()
        worker.wait(timeout=10)

    assert after_kill == (0, runs, None)
    assert _runs(entitled) == runs + 1
    assert _nothing_pending(entitled) is True
    # Each report's manager in the first runs, then everyone's team, once.
    assert AuditEvent.objects.filter(action=AUDIT_ACTION).count() == (
        len(people) - 1 + len(people)
    )


def _patch(scim, directory_user, path, value):
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": path, "value": value}],
    }
    response = scim.patch(f"/Users/{directory_user.scim_id}", body)
    assert response.status_code in (200, 204), response.content
    return response


def _links(directory_user):
    user = User.objects.get(pk=directory_user.user_id)
    return (user.manager_id, user.team_id, user.position_id)


def test_resolve_links_arrival_orders_end_alike_in_worker(celery_worker, entitled):
    scim = _scim(entitled)
    sales = team_create(organization=entitled, name="Sales", actor=None)
    senior = position_create(team=sales, name="Senior AE", actor=None)
    support = team_create(organization=entitled, name="Support", actor=None)
    staff_support = position_create(team=support, name="Staff AE", actor=None)
    boss = _post(scim, "boss@acme.example")
    ada = _post(
        scim, "ada@acme.example", title="Staff AE", **_with_manager("boss@acme.example")
    )

    _patch(scim, boss, "active", False)
    _patch(scim, boss, "active", True)
    position_rename(position=senior, name="Staff AE", actor=None)
    wait_until(lambda: _links(ada) == (boss.user_id, sales.pk, senior.pk))
    _patch(
        scim,
        ada,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "support",
    )

    wait_until(lambda: _links(ada) == (boss.user_id, support.pk, staff_support.pk))
    wait_until(lambda: _nothing_pending(entitled))
    assert LinkIssue.objects.filter(organization=entitled).count() == 0


def test_resolve_links_task_transient_error_retried(entitled, monkeypatch):
    # Eager tasks propagate what a worker would do: Retry, or the error.
    def broken(*, organization):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("directory.tasks.links_resolve_pending", broken)

    with pytest.raises(Retry):
        resolve_links_task.apply(args=[entitled.pk])


def test_resolve_links_task_permanent_error_fails(entitled, monkeypatch):
    def broken(*, organization):
        raise ProgrammingError("column does not exist")

    monkeypatch.setattr("directory.tasks.links_resolve_pending", broken)

    with pytest.raises(ProgrammingError):
        resolve_links_task.apply(args=[entitled.pk])
