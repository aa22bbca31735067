"""The shared store for sign-in state: requests we issued, assertions we saw.

With `REDIS_URL` set (every production process) this is Redis, spoken to
directly with one pooled client per process: Django's cache backend builds a
new client object on every call, which costs more than the round trip. Without
Redis (the embedded `make run`) Django's local cache stands in, which is only
correct for a single process, as that mode is.
"""

import json
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _redis() -> redis.Redis | None:
    return _client(settings.REDIS_URL) if settings.REDIS_URL else None


def _key(key: str) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:{key}" if prefix else key


def put(key: str, value: dict, ttl: int) -> None:
    client = _redis()
    if client is None:
        cache.set(key, value, ttl)
        return
    client.set(_key(key), json.dumps(value), ex=ttl)


def get(key: str) -> dict | None:
    client = _redis()
    if client is None:
        return cache.get(key)
    raw = client.get(_key(key))
    return json.loads(raw) if raw is not None else None


def take(key: str) -> bool:
    """Delete a key; True only for the one caller that deleted it."""
    client = _redis()
    if client is None:
        return cache.delete(key)
    return client.delete(_key(key)) == 1


def take_and_add_once(take_key: str, add_key: str, ttl: int) -> tuple[bool, bool]:
    """`take(take_key)` and `add_once(add_key, ttl)` in one round trip."""
    client = _redis()
    if client is None:
        return take(take_key), add_once(add_key, ttl)
    pipe = client.pipeline(transaction=False)
    pipe.delete(_key(take_key))
    pipe.set(_key(add_key), b"1", nx=True, ex=ttl)
    taken, added = pipe.execute()
    return taken == 1, bool(added)


def add_once(key: str, ttl: int) -> bool:
    """Record a key unless present (atomic SET NX); True if this call added it."""
    client = _redis()
    if client is None:
        return cache.add(key, 1, ttl)
    return bool(client.set(_key(key), b"1", nx=True, ex=ttl))
