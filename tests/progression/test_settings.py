import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "s3cure-" + "x7Kq9vLm2Pz8Rt4Wn6Yb1Hc5Jd0Fg3" * 2


def _load_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", "import progression.settings as s; print(s.DEBUG)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "key",
    [None, "short", "django-insecure-" + "a" * 60, "a" * 80],
    ids=["unset", "short", "django-default", "repetitive"],
)
def test_settings_debug_off_with_unsafe_key_refuse_to_start(key):
    env = {"DEBUG": "0"}
    if key is not None:
        env["SECRET_KEY"] = key

    result = _load_settings(**env)

    assert result.returncode != 0
    assert "SECRET_KEY is unset or unsafe" in result.stderr


def test_settings_debug_off_with_strong_key_start():
    result = _load_settings(DEBUG="0", SECRET_KEY=STRONG_KEY)

    assert result.returncode == 0
    assert result.stdout.strip() == "False"


def test_settings_debug_on_without_key_start():
    result = _load_settings(DEBUG="1")

    assert result.returncode == 0
    assert result.stdout.strip() == "True"


def test_settings_invalid_boolean_refused():
    result = _load_settings(DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_settings_without_services_use_embedded_defaults():
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    }
    code = (
        "import progression.settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "LocMemCache",
    ]


def test_settings_with_services_use_postgres_redis_and_worker():
    code = (
        "import progression.settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.CELERY_TASK_ACKS_LATE, s.CELERY_WORKER_PREFETCH_MULTIPLIER, "
        "s.CELERY_ACCEPT_CONTENT)"
    )

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip() == (
        "django.db.backends.postgresql False True 1 ['json']"
    )


@pytest.mark.parametrize(
    ("value", "threshold"),
    [(None, str(sys.maxsize)), ("1", str(sys.maxsize)), ("0", "None")],
    ids=["default", "on", "off"],
)
def test_settings_prepared_statements_switch(value, threshold):
    code = (
        "import progression.settings as s; "
        "print(s.DATABASES['default']['OPTIONS']['prepare_threshold'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_PREPARED_STATEMENTS"}
    env.update(DEBUG="1", DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    if value is not None:
        env["DATABASE_PREPARED_STATEMENTS"] = value

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip() == threshold
