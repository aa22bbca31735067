"""A real Celery worker for integration tests, consuming from the test Redis.

The worker is a separate process on the test database, so tests that use it
must commit their data: mark them `django_db(transaction=True)`.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from progression.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, *, timeout=20.0, interval=0.1):
    """Poll `condition` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


def worker_start(*, queue: str, **env) -> subprocess.Popen:
    """Start a Celery worker process on the test database, taking `queue`.

    Extra keyword arguments are environment variables for the worker only.
    """
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "progression.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "progression",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-Q",
            queue,
        ],
        cwd=ROOT,
        env=environment,
    )


def worker_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    celery_app.connection_for_write().default_channel.queue_purge(queue)
    process = worker_start(queue=queue)
    yield process
    worker_stop(process)


@pytest.fixture
def celery_worker(celery_worker_process, transactional_db):
    """Send tasks to the real worker instead of running them in-process."""
    assert celery_worker_process.poll() is None, "the Celery worker has exited"
    celery_app.conf.task_always_eager = False
    yield celery_worker_process
    celery_app.conf.task_always_eager = True
