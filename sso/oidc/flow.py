"""The authorization-code flow, on mozilla-django-oidc made multi-tenant.

mozilla-django-oidc reads one provider from Django settings. Here its request
view and its backend are built per connection instead: `get_settings` answers
from the connection, PKCE (S256) and the nonce are always on, and the backend
verifies ID tokens with `sso.oidc.tokens` rather than the library's own check
(which skips `iss` and `aud`). Both sides use the same redirect URI under
`PUBLIC_BASE_URL`, so every connection shares one callback.

The library keeps each sign-in's nonce and PKCE verifier in the session under
its `state`; we add the connection, the page to return to and, for an admin's
test sign-in, who started it. The callback takes the entry out of the session
before anything else, so a `state` is answered once.
"""

import json
import logging
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib.auth import get_user_model
from django.core.validators import validate_email
from django.forms import ValidationError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from progression.errors import ProgressionError
from progression.outbound import send
from sso.flows import safe_next
from sso.models import Connection, Identity
from sso.oidc import client_auth, logout, userinfo
from sso.oidc.errors import OidcRejectedError
from sso.oidc.tokens import id_token_verify
from sso.signin import VerifiedIdentity

logger = logging.getLogger(__name__)

CALLBACK_URL_NAME = "sso:oidc-callback"
SESSION_KEY = "oidc_states"
MAX_TOKEN_RESPONSE_BYTES = 256 * 1024
# Claims kept out of the attempt log: they say nothing about the person.
_PLUMBING = {"nonce", "at_hash", "c_hash", "sid", "auth_time", "exp", "iat", "nbf"}


def _fixed_settings(connection: Connection) -> dict:
    discovery = connection.discovery or {}
    extra = {}
    if connection.provider == "google-oauth" and connection.allowed_hosted_domains:
        # A hint for Google's account chooser only; the ID token's hd decides.
        extra["hd"] = connection.allowed_hosted_domains[0]
    return {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": discovery.get("authorization_endpoint"),
        "OIDC_OP_TOKEN_ENDPOINT": discovery.get("token_endpoint"),
        "OIDC_OP_JWKS_ENDPOINT": discovery.get("jwks_uri"),
        "OIDC_RP_CLIENT_ID": connection.client_id,
        "OIDC_RP_CLIENT_SECRET": connection.client_secret,
        "OIDC_RP_SCOPES": connection.scopes,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
        "OIDC_AUTH_REQUEST_EXTRA_PARAMS": extra,
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_STORE_ID_TOKEN": False,
    }


class ConnectionRequestView(OIDCAuthenticationRequestView):
    """The library's authentication request, for one connection."""

    connection: Connection = None

    def get_settings(self, attr, *args):
        fixed = _fixed_settings(self.connection)
        if attr in fixed:
            return fixed[attr]
        return import_from_settings(attr, *args)


def authorization_start(
    request, connection: Connection, *, next_url: str = "", test_by: int | None = None
) -> str:
    """Remember a new sign-in in the session; return the provider's URL for it."""
    view = ConnectionRequestView(connection=connection)
    view.setup(request)
    location = view.get(request)["Location"]
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query))
    # The library builds the redirect URI from the request's host; the
    # provider knows us by our public address.
    query["redirect_uri"] = connection.redirect_uri
    entry = request.session[SESSION_KEY][query["state"]]
    entry.update(connection_id=connection.pk, next=safe_next(next_url), test_by=test_by)
    request.session.modified = True
    return parts._replace(query=urlencode(query)).geturl()


def state_take(request, state: str) -> dict | None:
    """Remove this state's entry from the session and return it (once)."""
    states = request.session.get(SESSION_KEY)
    if not state or not isinstance(states, dict) or state not in states:
        return None
    entry = states.pop(state)
    request.session[SESSION_KEY] = states
    # Saved now, not at the end of the request, so a replayed callback finds
    # the state gone; two racing at the same instant still carry one code,
    # which the provider redeems only once.
    request.session.save()
    return entry if isinstance(entry, dict) and entry.get("connection_id") else None


class ConnectionBackend(OIDCAuthenticationBackend):
    """The library's code exchange for one connection, ending in an identity.

    It is never listed in `AUTHENTICATION_BACKENDS`: the callback calls it,
    and the person comes in through `sso.signin.identity_sign_in`.
    """

    def __init__(self, connection: Connection):
        # The library's own __init__ reads global settings; every value it
        # would read comes from the connection instead.
        self.connection = connection
        fixed = _fixed_settings(connection)
        self.OIDC_OP_TOKEN_ENDPOINT = fixed["OIDC_OP_TOKEN_ENDPOINT"]
        self.OIDC_OP_JWKS_ENDPOINT = fixed["OIDC_OP_JWKS_ENDPOINT"]
        self.OIDC_OP_USER_ENDPOINT = None
        self.OIDC_RP_CLIENT_ID = connection.client_id
        self.OIDC_RP_CLIENT_SECRET = connection.client_secret
        self.OIDC_RP_SIGN_ALGO = None
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()

    def get_settings(self, attr, *args):
        fixed = _fixed_settings(self.connection)
        if attr in fixed:
            return fixed[attr]
        return import_from_settings(attr, *args)

    def get_token(self, payload):
        """Exchange the code at the token endpoint, through the SSRF-safe client."""
        payload = {**payload, "redirect_uri": self.connection.redirect_uri}
        headers = {"Accept": "application/json"}
        client_auth.authenticate(
            self.connection, payload, headers, self.OIDC_OP_TOKEN_ENDPOINT
        )
        try:
            response = send(
                "POST",
                self.OIDC_OP_TOKEN_ENDPOINT,
                data=payload,
                headers=headers,
                max_bytes=MAX_TOKEN_RESPONSE_BYTES,
            )
        except ProgressionError as exc:
            raise OidcRejectedError("code_rejected") from exc
        if response.status != 200:
            logger.warning(
                "oidc token request refused: %s",
                response.status,
                extra={"connection_id": self.connection.pk},
            )
            raise OidcRejectedError("code_rejected")
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise OidcRejectedError("token_malformed") from exc

    def verify_token(self, token, **kwargs):
        return id_token_verify(self.connection, token, nonce=kwargs.get("nonce"))

    def get_userinfo(self, access_token, id_token, payload):
        return userinfo.claims_completed(self.connection, payload, access_token)

    def verify_claims(self, claims):
        return True

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        identity = identity_from_claims(self.connection, claims)
        return replace(
            identity, session=logout.session_values(self.connection, id_token)
        )


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _email(claims: dict, name: str) -> str:
    value = _text(claims.get(name)) if name else ""
    # An address the provider itself says it has not verified is no proof of
    # who the person is; without it they can still come in by a linked subject.
    if not value or claims.get("email_verified") is False:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def subject_of(connection: Connection, claims: dict) -> str:
    """The connection's stable key for the person.

    Entra's `oid` (or `sub`) is unique only within a tenant, so a Microsoft
    subject is the tenant id and that id together.
    """
    mapping = connection.attribute_mapping or {}
    subject = _text(claims.get(mapping.get("subject") or "sub")) or _text(
        claims.get("sub")
    )
    if connection.provider == "microsoft-oauth" and subject:
        return f"{_text(claims.get('tid'))}:{subject}"
    return subject


def identity_from_claims(connection: Connection, claims: dict) -> VerifiedIdentity:
    """Apply the connection's claim mapping to a verified ID token."""
    mapping = connection.attribute_mapping or {}
    subject = subject_of(connection, claims)
    if not subject:
        raise OidcRejectedError("subject_missing")
    groups_claim = mapping.get("groups") or ""
    groups = claims.get(groups_claim, [])
    if not isinstance(groups, list):
        groups = [groups]
    attributes = {
        str(name): value if isinstance(value, list) else [value]
        for name, value in claims.items()
        if name not in _PLUMBING
    }
    return VerifiedIdentity(
        connection=connection,
        subject=subject,
        email=_email(claims, mapping.get("email") or "email"),
        first_name=_text(claims.get(mapping.get("first_name") or ""))[:150],
        last_name=_text(claims.get(mapping.get("last_name") or ""))[:150],
        groups=tuple(str(group) for group in groups),
        groups_overage=groups_overage(connection, claims, groups_claim),
        attributes=attributes,
        issuer=_text(claims.get("iss")),
    )


def groups_overage(connection: Connection, claims: dict, groups_claim: str) -> bool:
    """Whether the provider left the groups out of the token for their number.

    Past 200 groups Entra sends no groups claim: `_claim_names` names it and
    `_claim_sources` points at Microsoft Graph instead (an OpenID Connect
    Core 5.6.2 distributed claim), or `hasgroups` says there are some. We do
    not call Graph, so the person's groups are unknown, which the attempt log
    and the test sign-in say, rather than passing them off as no groups.
    """
    if not groups_claim or groups_claim in claims:
        return False
    names = claims.get("_claim_names")
    overage = isinstance(names, dict) and groups_claim in names
    overage = overage or claims.get("hasgroups") in (True, "true")
    if overage:
        logger.warning(
            "oidc groups left out of the token (overage)",
            extra={"connection_id": connection.pk},
        )
    return overage


def _linked_elsewhere(identity: VerifiedIdentity) -> bool:
    """Whether this issuer's subject already signs someone in elsewhere.

    One account at one provider is one person: once it is linked in one
    organisation, another organisation's connection to the same issuer (a
    shared Google or a multi-tenant app) cannot claim it as well.
    """
    connection = identity.connection
    return (
        Identity.objects.filter(
            subject=identity.subject,
            connection__protocol=Connection.Protocol.OIDC,
            connection__issuer=connection.issuer,
        )
        .exclude(connection__organization_id=connection.organization_id)
        .exists()
    )


def identity_from_callback(request, connection: Connection, entry: dict):
    """Run the code exchange and the token checks; return the identity."""
    backend = ConnectionBackend(connection)
    identity = backend.authenticate(
        request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
    )
    if identity is None:
        raise OidcRejectedError("code_missing")
    if _linked_elsewhere(identity):
        raise OidcRejectedError("subject_elsewhere")
    return identity
