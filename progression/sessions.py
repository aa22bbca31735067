"""Sessions in the cache (Redis), where starting one costs a single write.

Django's cache sessions check that a new key is free, claim it with an empty
session, and then read it back and write it again when the request saves it:
four round trips to start a session at sign-in. Here `create` only picks the
key, and the first save claims it with an atomic add (SET NX), trying another
key in the vanishingly rare case that one is taken, so two people can never
share a session. Saving an existing session is Django's own: a session that
was deleted (signed out elsewhere) is not written back.
"""

import secrets

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

_KEY_ATTEMPTS = 100
_KEY_LENGTH = 32


def _new_key() -> str:
    """A session key like Django's: 32 characters of `VALID_KEY_CHARS`, each
    uniformly random from the system's CSPRNG.

    The key is one random number below 36**32 written in base 36, which is
    the same distribution as drawing each character on its own, without the
    cost of 32 separate draws.
    """
    number = secrets.randbelow(len(VALID_KEY_CHARS) ** _KEY_LENGTH)
    characters = []
    for _ in range(_KEY_LENGTH):
        number, digit = divmod(number, len(VALID_KEY_CHARS))
        characters.append(VALID_KEY_CHARS[digit])
    return "".join(characters)


class SessionStore(CacheSessionStore):
    _unclaimed = False

    def create(self):
        self._session_key = _new_key()
        self._unclaimed = True
        self.modified = True

    def save(self, must_create=False):
        if self.session_key is None:
            self.create()
        if not self._unclaimed:
            return super().save(must_create=must_create)
        for _ in range(_KEY_ATTEMPTS):
            if self._cache.add(
                self.cache_key,
                self._get_session(no_load=True),
                self.get_expiry_age(),
            ):
                self._unclaimed = False
                return None
            self._session_key = _new_key()
        raise RuntimeError("no free session key: is the cache reachable?")
