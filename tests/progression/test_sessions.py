"""Sessions in Redis: one write to start one, never shared, gone on sign-out."""

import uuid
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.core.cache import cache
from django.urls import reverse

from progression import sessions
from progression.sessions import SessionStore
from tests.factories import PASSWORD


def test_sessions_are_in_redis_when_redis_is_configured():
    assert settings.REDIS_URL != ""
    assert settings.SESSION_ENGINE == "progression.sessions"
    assert settings.CACHES["default"]["BACKEND"] == "progression.cache.RedisCache"


def test_cache_client_is_built_once_per_pool():
    backend = cache._cache

    first = backend.get_client(write=True)
    second = backend.get_client(write=True)

    assert first is second


def test_new_session_is_saved_under_its_key():
    store = SessionStore()
    store["person"] = 7

    store.save()

    assert SessionStore(store.session_key).load() == {"person": 7}


def test_new_session_never_takes_a_key_in_use(monkeypatch):
    taken = SessionStore()
    taken["person"] = 1
    taken.save()
    # A key of this run's own: the store outlives the test.
    fresh = uuid.uuid4().hex
    keys = iter([taken.session_key, fresh])
    monkeypatch.setattr(sessions, "_new_key", lambda: next(keys))

    store = SessionStore()
    store["person"] = 2
    store.save()

    assert store.session_key == fresh
    assert SessionStore(taken.session_key).load() == {"person": 1}
    assert SessionStore(fresh).load() == {"person": 2}


def test_new_key_draws_every_character_at_every_position():
    keys = [sessions._new_key() for _ in range(2000)]

    assert len(set(keys)) == len(keys)
    assert {len(key) for key in keys} == {32}
    for position in range(32):
        assert {key[position] for key in keys} == set(VALID_KEY_CHARS)


def test_deleted_session_is_not_written_back():
    store = SessionStore()
    store["person"] = 3
    store.save()
    SessionStore(store.session_key).delete()

    store["person"] = 4
    with pytest.raises(UpdateError):
        store.save()

    assert SessionStore(store.session_key).exists(store.session_key) is False


def test_signout_deletes_the_session(client, admin):
    client.post(
        reverse("signin-password"), {"email": admin.email, "password": PASSWORD}
    )
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    engine = import_module(settings.SESSION_ENGINE)
    signed_in = engine.SessionStore(key).load()

    client.post(reverse("signout"))

    assert signed_in["_auth_user_id"] == str(admin.pk)
    assert engine.SessionStore(key).exists(key) is False
