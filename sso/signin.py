"""One way from a verified identity to a session, for SAML and OIDC alike.

A protocol flow proves who the IdP says the person is; this module decides
whether that person may come in. The answer is a session for an active user of
the connection's own organisation, or a clear refusal:

- people are matched within the connection's organisation only: first by the
  subject remembered from an earlier sign-in, then by email; a user of another
  organisation with the same email is never found;
- archived people are refused, and never reactivated by signing in;
- a person without an account is created only when the connection has
  just-in-time provisioning on, and only for an email on one of the
  organisation's own domains;
- the organisation must be entitled to SSO right now.
"""

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from billing.entitlements import entitlement
from progression.errors import ProgressionError
from progression.models import OrganizationDomain, User
from progression.queries import ColumnUpdate, Joined, RowQuery
from progression.services import people
from sso.models import Connection, Identity, LoginAttempt
from sso.services.attempts import attempt_record

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

NO_ACCOUNT = (
    "There is no Progression account for {email} in {organization}. Ask your "
    "organisation's Progression admin to add you."
)
ARCHIVED = (
    "Your Progression account in {organization} is archived. Ask your "
    "organisation's Progression admin if you need it back."
)
CONNECTION_INACTIVE = (
    "Single sign-on through this identity provider is turned off for "
    "{organization}. Ask your organisation's Progression admin."
)
NOT_ENTITLED = "Single sign-on is not available for {organization}: {message}"
EMAIL_MISSING = (
    "Your identity provider did not send an email address, so we cannot tell "
    "who you are. Ask your IT team to send the email attribute."
)
EMAIL_OUTSIDE_DOMAINS = (
    "{email} is not on one of {organization}'s email domains, so no account "
    "is created for it. Ask your organisation's Progression admin."
)
SUBJECT_TAKEN = (
    "Your identity provider account is already linked to another Progression "
    "account. Ask your organisation's Progression admin."
)


class SignInRefusedError(ProgressionError):
    """A verified identity that may not come in; `message` is for the person."""


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the IdP vouches for, after the protocol's own checks passed."""

    connection: Connection
    subject: str
    email: str
    first_name: str = ""
    last_name: str = ""
    groups: tuple[str, ...] = ()
    attributes: dict = field(default_factory=dict)
    issuer: str = ""
    idp_initiated: bool = False
    # The provider left the groups out (too many of them): `groups` is empty
    # because they are unknown, not because the person is in none.
    groups_overage: bool = False
    # What the protocol needs later in the person's session, such as the
    # NameID and session index that single logout names.
    session: dict = field(default_factory=dict)


def refusal_page(request, message: str, *, status: int = 403):
    """The page a person sees when they may not sign in."""
    return render(request, "sso/refused.html", {"message": message}, status=status)


def _email_domain_owned(identity: VerifiedIdentity) -> bool:
    domain = identity.email.rpartition("@")[2].lower()
    return OrganizationDomain.objects.filter(
        organization_id=identity.connection.organization_id, domain__iexact=domain
    ).exists()


def identity_check(
    identity: VerifiedIdentity, *, testing: bool = False, granted=None
) -> User | None:
    """Find the user this identity signs in as, without writing anything.

    Returns None when the connection would create the person (JIT); raises
    `SignInRefusedError` when they may not come in. A test sign-in runs
    before activation, so `testing` skips the connection's state. `granted`
    is the organisation's entitlement when the caller has just asked for it.
    """
    return _check(identity, testing=testing, granted=granted)[0]


def _check(
    identity: VerifiedIdentity, *, testing: bool = False, granted=None
) -> tuple[User | None, bool]:
    """`identity_check`, also saying whether the user came through the link."""
    connection = identity.connection
    organization = connection.organization
    names = {"organization": organization.name, "email": identity.email}
    granted = granted or entitlement(organization)
    if not granted.available:
        raise SignInRefusedError(
            NOT_ENTITLED.format(message=granted.message, **names), code="not_entitled"
        )
    if not connection.is_active and not testing:
        raise SignInRefusedError(
            CONNECTION_INACTIVE.format(**names), code="connection_inactive"
        )
    user, linked = _find_user(identity)
    if user is None:
        if not identity.email:
            raise SignInRefusedError(EMAIL_MISSING, code="email_missing")
        if not connection.jit_provisioning:
            raise SignInRefusedError(NO_ACCOUNT.format(**names), code="no_account")
        if not _email_domain_owned(identity):
            raise SignInRefusedError(
                EMAIL_OUTSIDE_DOMAINS.format(**names), code="email_outside_domains"
            )
        return None, False
    if user.status != User.Status.ACTIVE:
        raise SignInRefusedError(ARCHIVED.format(**names), code="archived")
    return user, linked


# A returning person: the link to the IdP subject (one per subject and
# connection, a unique constraint) and the user it points to.
_LINKED_USER = RowQuery(
    (
        Joined(Identity, "i"),
        Joined(User, "u", 'JOIN {table} u ON u."id" = i."user_id"'),
    ),
    where='i."connection_id" = %s AND i."subject" = %s',
)


def _find_user(identity: VerifiedIdentity) -> tuple[User | None, bool]:
    connection = identity.connection
    if identity.subject:
        linked = _LINKED_USER.one([connection.pk, identity.subject])
        # The link is re-checked against the organisation: it can never point
        # elsewhere, but a user row is the thing that grants access.
        if linked and linked[1].organization_id == connection.organization_id:
            return linked[1], True
    if identity.email:
        users = User.objects.filter(organization_id=connection.organization_id)
        return users.filter(email__iexact=identity.email).first(), False
    return None, False


def identity_resolve(identity: VerifiedIdentity, *, granted=None) -> User:
    """Return the user to sign in, linking the subject and creating (JIT) as
    needed; raise `SignInRefusedError` otherwise."""
    user, linked = _check(identity, granted=granted)
    with transaction.atomic(savepoint=False):
        return _resolved(identity, user, linked)


def _resolved(identity: VerifiedIdentity, user: User | None, linked: bool) -> User:
    """Create the person (JIT) and link the subject, as `_check` found needed."""
    connection = identity.connection
    if user is None:
        try:
            user = people.user_create(
                organization=connection.organization,
                email=identity.email,
                first_name=identity.first_name,
                last_name=identity.last_name,
                actor=f"sso:{connection.pk}",
            )
        except ProgressionError as exc:
            raise SignInRefusedError(
                NO_ACCOUNT.format(
                    email=identity.email,
                    organization=connection.organization.name,
                ),
                code="no_account",
            ) from exc
    if identity.subject and not linked:
        _link(connection, user, identity.subject)
    return user


def _link(connection: Connection, user: User, subject: str) -> None:
    linked = Identity.objects.filter(connection=connection, subject=subject).first()
    if linked is not None:
        if linked.user_id != user.pk:
            raise SignInRefusedError(SUBJECT_TAKEN, code="subject_taken")
        return
    try:
        with transaction.atomic():
            # A person's subject at the IdP may change (a re-created account):
            # the newest one wins, the old link goes.
            Identity.objects.filter(connection=connection, user=user).delete()
            Identity.objects.create(connection=connection, user=user, subject=subject)
    except IntegrityError as exc:
        # Two first sign-ins of the same person raced; the other one linked
        # the subject first, which is only a problem if it linked someone else.
        linked = Identity.objects.filter(connection=connection, subject=subject).first()
        if linked is None or linked.user_id != user.pk:
            raise SignInRefusedError(SUBJECT_TAKEN, code="subject_taken") from exc


def mapped_fields(identity: VerifiedIdentity) -> dict:
    return {
        "subject": identity.subject,
        "email": identity.email,
        "first_name": identity.first_name,
        "last_name": identity.last_name,
        "groups": list(identity.groups),
    }


def identity_sign_in(
    request, identity: VerifiedIdentity, *, next_url: str = "/", granted=None
):
    """Sign the person in and send them on, or answer with the refusal page.

    Every outcome but a missing entitlement is logged on the connection; with
    no entitlement nothing at all is written. A first sign-in is one
    transaction: the new person, the link to the IdP subject, the session
    (when sessions are in the database), `last_login` and the log entry. The
    session cookie is handed out only once all of it is written, so a failed
    sign-in leaves at most a session nobody holds, which expires.
    """
    connection = identity.connection
    try:
        user, linked = _check(identity, granted=granted)
        # A returning person (found, linked) writes two single statements,
        # last_login and the log entry, which need no transaction around them.
        returning = user is not None and (linked or not identity.subject)
        with nullcontext() if returning else transaction.atomic():
            user = _resolved(identity, user, linked)
            login(request, user, backend="progression.auth.ActiveUserBackend")
            request.session["sso_connection_id"] = connection.pk
            request.session.update(identity.session)
            request.session.save()
            _attempt(identity, LoginAttempt.Outcome.SIGNED_IN, user=user)
    except SignInRefusedError as exc:
        security_logger.warning(
            "sso sign-in refused: %s", exc.code, extra={"connection_id": connection.pk}
        )
        if exc.code != "not_entitled":
            _attempt(identity, LoginAttempt.Outcome.REFUSED, reason=exc.code)
        return refusal_page(request, exc.message)
    logger.info(
        "sso sign-in", extra={"connection_id": connection.pk, "user_id": user.pk}
    )
    response = HttpResponseRedirect(next_url)
    _session_cookie_set(request, response)
    return response


_LAST_LOGIN = ColumnUpdate(User, "last_login")


def last_login_record(sender, user, **kwargs) -> None:
    """Record when a person signed in, as Django's `update_last_login` does.

    Connected in its place (`sso.apps`) for every sign-in, SSO or password:
    Django's saves the user, which compiles an UPDATE each time; this one
    sends the same UPDATE of the one column, built once per process. Nothing
    listens to a user's `pre_save` or `post_save`, which are not sent.
    """
    if type(user) is not User:
        update_last_login(sender, user, **kwargs)
        return
    _LAST_LOGIN.set(user, timezone.now())


def _session_cookie_set(request, response) -> None:
    """Hand out the cookie of the session saved with the sign-in.

    This is what the session middleware does for a changed session, minus the
    second save: the session row was written complete inside the sign-in's
    transaction, so the middleware is told there is nothing left to save.
    """
    session = request.session
    if session.get_expire_at_browser_close():
        max_age = expires = None
    else:
        max_age = session.get_expiry_age()
        expires = http_date(time.time() + max_age)
    response.set_cookie(
        settings.SESSION_COOKIE_NAME,
        session.session_key,
        max_age=max_age,
        expires=expires,
        domain=settings.SESSION_COOKIE_DOMAIN,
        path=settings.SESSION_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE or None,
        httponly=settings.SESSION_COOKIE_HTTPONLY or None,
        samesite=settings.SESSION_COOKIE_SAMESITE,
    )
    patch_vary_headers(response, ("Cookie",))
    session.modified = False


def _attempt(identity: VerifiedIdentity, outcome: str, *, reason="", user=None):
    attempt_record(
        connection=identity.connection,
        outcome=outcome,
        reason=reason,
        idp_initiated=identity.idp_initiated,
        subject=identity.subject,
        email=identity.email,
        issuer=identity.issuer,
        attributes=identity.attributes,
        mapped=mapped_fields(identity),
        groups_overage=identity.groups_overage,
        user=user,
    )
