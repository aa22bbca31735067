"""Coalescing link resolution: changes are noted, one run per organisation follows.

Every change that can alter links is noted as pending for its organisation
(the people it concerns, or "everyone") and at most one task per organisation
waits in the queue, so a burst of thousands of SCIM requests becomes a
handful of runs. A run takes the organisation's lock, claims what is pending
at that moment and, once its transaction has committed, forgets exactly what
it claimed: a change noted during the run has a later sequence number and is
left for the next run, and a run cut short (a worker killed) forgets nothing.

Pending changes live in Redis when `REDIS_URL` is set, so every web process and
worker sees the same ones; otherwise, in the embedded default where tasks run
in-process, in this process's memory.
"""

import dataclasses
import logging
import os
import sys
import threading

from django.conf import settings
from django.db import connection, transaction

from directory.links import (
    LINKS_BUSY,
    LinkResolution,
    LinksBusyError,
    links_lock,
    links_resolve,
)
from directory.links_statements import unmatched_now_named
from directory.models import Directory
from progression.models import Organization

logger = logging.getLogger(__name__)

EVERYONE = "*"
# Above this many changed people a run resolves the whole organisation, which
# costs the same whatever the number of changes.
FULL_RUN_ABOVE = 10_000
# A queued marker outlives any wait for a run; should a task be lost anyway,
# the next change after it expires queues a new one.
QUEUED_TTL_SECONDS = 600


@dataclasses.dataclass(frozen=True)
class Claim:
    """What one run takes on: everything noted up to `sequence`."""

    sequence: int
    user_ids: list[int] | None  # None: the whole organisation

    @property
    def empty(self) -> bool:
        return self.user_ids == []


def _claim(sequence: int, members) -> Claim:
    members = set(members)
    if EVERYONE in members or len(members) > FULL_RUN_ABOVE:
        return Claim(sequence, None)
    return Claim(sequence, sorted(int(member) for member in members))


# Noting and claiming are each one script, so Redis runs them one after the
# other: a claim never sees a sequence number whose members are not added yet.
_ADD_SCRIPT = """
local sequence = redis.call('INCR', KEYS[1])
for _, member in ipairs(ARGV) do
    redis.call('ZADD', KEYS[2], sequence, member)
end
return sequence
"""
_ADD_IF_QUEUED_SCRIPT = """
if redis.call('EXISTS', KEYS[3]) == 0 then
    return 0
end
local sequence = redis.call('INCR', KEYS[1])
for _, member in ipairs(ARGV) do
    redis.call('ZADD', KEYS[2], sequence, member)
end
return 1
"""
_CLAIM_SCRIPT = """
local sequence = tonumber(redis.call('GET', KEYS[1]) or '0')
return {sequence, redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', sequence)}
"""


class RedisPending:
    """Pending changes in Redis: a sorted set per organisation, scored by sequence."""

    def __init__(self, url: str, prefix: str):
        import redis

        # One connection, kept: taking one from a pool and giving it back costs
        # a note a quarter of its time. Calls from several threads take turns.
        self.client = redis.Redis.from_url(url, single_connection_client=True)
        self.pid = os.getpid()
        self.prefix = f"{prefix}:links"
        self._add = self.client.register_script(_ADD_SCRIPT)
        self._add_if_queued = self.client.register_script(_ADD_IF_QUEUED_SCRIPT)
        self._claim = self.client.register_script(_CLAIM_SCRIPT)

    def _key(self, organization_id: int, what: str) -> str:
        return f"{self.prefix}:{organization_id}:{what}"

    def add(self, organization_id: int, members: list[str]) -> None:
        self._add(
            keys=[f"{self.prefix}:sequence", self._key(organization_id, "pending")],
            args=members,
        )

    def add_if_queued(self, organization_id: int, members: list[str]) -> bool:
        return bool(
            self._add_if_queued(
                keys=[
                    f"{self.prefix}:sequence",
                    self._key(organization_id, "pending"),
                    self._key(organization_id, "queued"),
                ],
                args=members,
            )
        )

    def claim(self, organization_id: int) -> Claim:
        sequence, members = self._claim(
            keys=[f"{self.prefix}:sequence", self._key(organization_id, "pending")]
        )
        return _claim(int(sequence), (member.decode() for member in members))

    def done(self, organization_id: int, claim: Claim) -> None:
        self.client.zremrangebyscore(
            self._key(organization_id, "pending"), "-inf", claim.sequence
        )

    def mark_queued(self, organization_id: int) -> bool:
        return bool(
            self.client.set(
                self._key(organization_id, "queued"),
                "1",
                nx=True,
                ex=QUEUED_TTL_SECONDS,
            )
        )

    def clear_queued(self, organization_id: int) -> None:
        self.client.delete(self._key(organization_id, "queued"))

    def organizations(self) -> list[int]:
        found = []
        for key in self.client.scan_iter(match=f"{self.prefix}:*:pending"):
            found.append(int(key.decode().rsplit(":", 2)[1]))
        return sorted(found)


class MemoryPending:
    """Pending changes in this process, for the embedded default."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sequence = 0
        self.pending: dict[int, dict[str, int]] = {}
        self.queued: set[int] = set()

    def add(self, organization_id: int, members: list[str]) -> None:
        with self.lock:
            self.sequence += 1
            entries = self.pending.setdefault(organization_id, {})
            entries.update(dict.fromkeys(members, self.sequence))

    def add_if_queued(self, organization_id: int, members: list[str]) -> bool:
        with self.lock:
            if organization_id not in self.queued:
                return False
            self.sequence += 1
            entries = self.pending.setdefault(organization_id, {})
            entries.update(dict.fromkeys(members, self.sequence))
            return True

    def claim(self, organization_id: int) -> Claim:
        with self.lock:
            entries = self.pending.get(organization_id, {})
            return _claim(self.sequence, list(entries))

    def done(self, organization_id: int, claim: Claim) -> None:
        with self.lock:
            entries = self.pending.get(organization_id, {})
            for member, sequence in list(entries.items()):
                if sequence <= claim.sequence:
                    del entries[member]
            if not entries:
                self.pending.pop(organization_id, None)

    def mark_queued(self, organization_id: int) -> bool:
        with self.lock:
            if organization_id in self.queued:
                return False
            self.queued.add(organization_id)
            return True

    def clear_queued(self, organization_id: int) -> None:
        with self.lock:
            self.queued.discard(organization_id)

    def organizations(self) -> list[int]:
        with self.lock:
            return sorted(self.pending)


_store = None
_store_lock = threading.Lock()


def pending_store():
    """The pending changes every process shares."""
    global _store
    with _store_lock:
        # A forked process opens its own connection rather than share its
        # parent's.
        inherited = isinstance(_store, RedisPending) and _store.pid != os.getpid()
        if _store is None or inherited:
            if settings.REDIS_URL:
                prefix = settings.CACHES["default"].get("KEY_PREFIX", "progression")
                _store = RedisPending(settings.REDIS_URL, prefix)
            else:
                _store = MemoryPending()
        return _store


def coalesce_seconds() -> float:
    return float(getattr(settings, "DIRECTORY_LINKS_COALESCE_SECONDS", 2.0))


def links_request(*, organization_id: int, user_ids=None, force=False) -> bool:
    """Note that links may have changed and make sure a run will follow.

    Call it once the change is committed. Returns whether a task was queued;
    none is when one is already waiting, unless `force`.
    """
    from directory.tasks import resolve_links_task

    members = [EVERYONE] if user_ids is None else [str(pk) for pk in user_ids]
    store = pending_store()
    if members and not force and store.add_if_queued(organization_id, members):
        # A run is queued only for an organisation with a directory, and it
        # will see these; during a burst of changes this is the usual case.
        return False
    if not Directory.objects.filter(organization_id=organization_id).exists():
        return False
    if members:
        store.add(organization_id, members)
    if not store.mark_queued(organization_id) and not force:
        return False
    resolve_links_task.apply_async(args=[organization_id], countdown=coalesce_seconds())
    return True


def links_request_on_commit(*, organization_id: int, user_ids=None) -> None:
    """Request a run once the current transaction commits."""
    transaction.on_commit(
        lambda: links_request(organization_id=organization_id, user_ids=user_ids),
        robust=True,
    )


def links_resolve_pending(*, organization: Organization) -> LinkResolution | None:
    """Resolve everything pending for an organisation, under its lock.

    Returns None when nothing was pending. Raises `LinksBusyError` while another
    run holds the lock; the queued marker is then left in place, so no other
    task is queued meanwhile.
    """
    store = pending_store()

    with transaction.atomic():
        if not links_lock(organization.pk):
            raise LinksBusyError(LINKS_BUSY)
        store.clear_queued(organization.pk)
        claim = store.claim(organization.pk)
        if claim.empty:
            return None
        resolution = links_resolve(organization=organization, user_ids=claim.user_ids)
    store.done(organization.pk, claim)
    return resolution


def links_forget(*, organization_id: int) -> None:
    """Drop what is pending for an organisation that no longer exists."""
    store = pending_store()
    store.done(organization_id, Claim(sys.maxsize, []))
    store.clear_queued(organization_id)


def links_sweep() -> int:
    """Queue a run for every organisation with pending changes, or with people
    whose unmatched manager is now someone; returns how many.

    Workers call this when they start, so changes claimed by a run that was cut
    short are resolved without waiting for another change, and the beat calls
    it every few minutes.
    """
    organization_ids = set(pending_store().organizations())
    for organization_id in organization_ids:
        links_request(organization_id=organization_id, user_ids=[], force=True)
    with connection.cursor() as cursor:
        named = unmatched_now_named(cursor)
    for organization_id, user_ids in named.items():
        links_request(organization_id=organization_id, user_ids=user_ids)
    return len(organization_ids | set(named))
