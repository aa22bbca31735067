"""Test settings: the project's own, on PostgreSQL and Redis.

`make test` starts both services. Tasks run in-process unless a test asks for
the real worker (the `celery_worker` fixture), which takes them from Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-" + "k3y-for-the-test-suite-only-" * 3)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CACHE_KEY_PREFIX", "progression-tests")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# A queue of this run's own, so a worker never takes another run's tasks.
os.environ.setdefault("CELERY_QUEUE", f"progression-tests-{os.getpid()}")

from progression.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
