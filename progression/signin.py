"""Where a person signs in, found from their email address.

The sign-in page asks for an email first. Apps that offer other ways in (SSO)
register a discoverer here when they load; a discoverer returns the URL that
starts that person's sign-in, or None. With no discoverer answering, the person
signs in with a password, unless a registered password policy says their
organisation requires another way in.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

Discoverer = Callable[[HttpRequest, str], str | None]
PasswordPolicy = Callable[[Any], bool]
SignoutStep = Callable[[HttpRequest], str | None]
_discoverers: list[Discoverer] = []
_password_policies: list[PasswordPolicy] = []
_signout_steps: list[SignoutStep] = []


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


def register_password_policy(policy: PasswordPolicy) -> None:
    """Add a rule that says whether a person may sign in with a password."""
    if policy not in _password_policies:
        _password_policies.append(policy)


def password_allowed(user) -> bool:
    """Say whether every registered policy lets this person use a password."""
    return all(policy(user) for policy in _password_policies)


def register_signout_step(step: SignoutStep) -> None:
    """Add a step that may send a person on after sign-out (an IdP's logout)."""
    if step not in _signout_steps:
        _signout_steps.append(step)


def signout_continue(request: HttpRequest) -> str | None:
    """Where to send a person once their session ends, or None for sign-in.

    Asked just before the session ends, since the steps read it.
    """
    for step in _signout_steps:
        url = step(request)
        if url:
            return url
    return None
