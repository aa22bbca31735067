"""Where a person signs in, found from their email address.

The sign-in page asks for an email first. Apps that offer other ways in (SSO)
register a discoverer here when they load; a discoverer returns the URL that
starts that person's sign-in, or None. With no discoverer answering, the person
signs in with a password.
"""

from collections.abc import Callable

from django.http import HttpRequest

Discoverer = Callable[[HttpRequest, str], str | None]
_discoverers: list[Discoverer] = []


def register_discoverer(discoverer: Discoverer) -> None:
    if discoverer not in _discoverers:
        _discoverers.append(discoverer)


def discover(request: HttpRequest, email: str) -> str | None:
    """Return the URL that starts this email's sign-in elsewhere, or None."""
    for discoverer in _discoverers:
        url = discoverer(request, email)
        if url:
            return url
    return None
