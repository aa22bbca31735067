"""The SAML sign-in flow around `sso.saml`: requests we issued, assertions seen.

Both live in the shared store (`sso.store`, Redis in production), so every
web process sees the same state:

- an AuthnRequest id is stored when we send the person to the IdP and can be
  answered once, within `REQUEST_TTL`; a response that names any other
  request is refused;
- a response that names no request is IdP-initiated and is accepted only where
  the connection allows it;
- an assertion id is accepted once per connection, remembered until its
  NotOnOrAfter plus the clock skew. Recording it is an atomic set-if-absent,
  so two processes handed the same assertion cannot both accept it.
"""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.core.validators import validate_email
from django.forms import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from sso import logout, saml, store
from sso.models import Connection
from sso.saml import SamlRejectedError
from sso.signin import VerifiedIdentity

logger = logging.getLogger(__name__)

REQUEST_TTL = 10 * 60
CLOCK_SKEW = 3 * 60
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


@dataclass(frozen=True)
class AcsResult:
    identity: VerifiedIdentity
    assertion: saml.Assertion
    next_url: str
    test_by: int | None


def _request_key(connection: Connection, request_id: str) -> str:
    digest = hashlib.sha256(request_id.encode()).hexdigest()
    return f"sso:saml:request:{connection.pk}:{digest}"


def _assertion_key(connection: Connection, assertion_id: str) -> str:
    digest = hashlib.sha256(assertion_id.encode()).hexdigest()
    return f"sso:saml:assertion:{connection.pk}:{digest}"


def safe_next(path: str) -> str:
    """A same-site relative path, or the home page."""
    path = (path or "").strip()
    if (
        path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
        and url_has_allowed_host_and_scheme(path, allowed_hosts=None)
    ):
        return path
    return reverse("home")


def login_start(
    *, connection: Connection, next_url: str = "", test_by: int | None = None
) -> str:
    """Remember a new AuthnRequest and return the IdP URL that carries it."""
    next_url = safe_next(next_url)
    url, request_id = saml.authn_request_url(connection, relay_state=next_url)
    store.put(
        _request_key(connection, request_id),
        {"next": next_url, "test_by": test_by},
        REQUEST_TTL,
    )
    return url


def response_parse(connection: Connection, saml_response: str):
    """Parse a posted response and find the request it answers, if any.

    Returns the parsed response and the stored request (None when the
    response names none). Nothing is trusted or consumed yet.
    """
    check = saml.ResponseCheck(connection, saml_response)
    request_id = check.in_response_to
    flow = None
    if request_id:
        flow = store.get(_request_key(connection, request_id))
        if flow is None:
            raise SamlRejectedError("unknown_request")
    return check, flow


def response_accept(connection: Connection, check, flow) -> AcsResult:
    """Validate fully, consume the request and the assertion id, map the person."""
    request_id = check.in_response_to
    if not request_id and not connection.allow_idp_initiated:
        raise SamlRejectedError("unsolicited")
    assertion = check.validate(request_id=request_id)
    if not assertion.assertion_id:
        raise SamlRejectedError("invalid", "assertion without an ID")
    assertion_key = _assertion_key(connection, assertion.assertion_id)
    ttl = _replay_ttl(assertion.not_on_or_after)
    if request_id:
        taken, fresh = store.take_and_add_once(
            _request_key(connection, request_id), assertion_key, ttl
        )
        if not taken:
            raise SamlRejectedError("request_used")
    else:
        fresh = store.add_once(assertion_key, ttl)
    if not fresh:
        raise SamlRejectedError("replayed")
    identity = identity_from_assertion(
        connection, assertion, idp_initiated=not request_id
    )
    return AcsResult(
        identity=identity,
        assertion=assertion,
        # IdP-initiated sign-ins land on a fixed page, whatever RelayState says.
        next_url=flow["next"] if flow else reverse("home"),
        test_by=flow.get("test_by") if flow else None,
    )


def _replay_ttl(not_on_or_after: dt.datetime | None) -> int:
    if not_on_or_after is None:
        return REQUEST_TTL + CLOCK_SKEW
    remaining = (not_on_or_after - timezone.now()).total_seconds()
    return max(int(remaining) + CLOCK_SKEW, CLOCK_SKEW)


def _first(attributes: dict, name: str) -> str:
    if not name:
        return ""
    values = attributes.get(name) or []
    return str(values[0]).strip() if values else ""


def _email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def identity_from_assertion(
    connection: Connection, assertion: saml.Assertion, *, idp_initiated: bool
) -> VerifiedIdentity:
    """Apply the connection's attribute mapping to a validated assertion."""
    mapping = connection.attribute_mapping or {}
    attributes = assertion.attributes
    if mapping.get("subject"):
        subject = _first(attributes, mapping["subject"])
    elif assertion.name_id_format == NAMEID_TRANSIENT:
        # A transient NameID changes every time; it identifies no one.
        subject = ""
    else:
        subject = assertion.name_id
    email = _email(_first(attributes, mapping.get("email", "")))
    if not email:
        email = _email(assertion.name_id.strip())
    groups = tuple(
        str(value) for value in attributes.get(mapping.get("groups") or "", [])
    )
    return VerifiedIdentity(
        connection=connection,
        subject=subject,
        email=email,
        first_name=_first(attributes, mapping.get("first_name", ""))[:150],
        last_name=_first(attributes, mapping.get("last_name", ""))[:150],
        groups=groups,
        attributes=attributes,
        issuer=assertion.issuer,
        idp_initiated=idp_initiated,
        session=logout.session_values(assertion),
    )
