"""Test settings: the project's own, with a fixed key and fast password hashing.

`make test` sets `DATABASE_URL` and `REDIS_URL` so the suite runs on PostgreSQL
and Redis; without them it runs on SQLite with in-process tasks.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-" + "k3y-for-the-test-suite-only-" * 3)
os.environ.setdefault("CACHE_KEY_PREFIX", "progression-tests")

from progression.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
