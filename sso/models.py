"""Sign-in connections of organisations, their IdP certificates and login log.

A connection belongs to one organisation and has its own SP entity ID and ACS
URL, both built from `public_id` under `PUBLIC_BASE_URL`: an assertion made for
one connection names that connection's audience and ACS, so it cannot be
replayed against another organisation's connection.

An OIDC connection instead has the organisation's client at the provider: the
issuer, whose discovery document is cached here, and the client id and secret
(the secret encrypted at rest). All OIDC connections share one redirect URI;
the `state` of each sign-in names the connection it started for.
"""

import secrets
from functools import cached_property, lru_cache

from django.conf import settings
from django.db import models
from django.urls import get_script_prefix, get_urlconf, reverse

from progression.crypto import EncryptedTextField
from progression.models import Organization, OrganizationDomain, User
from sso.oidc.providers import (
    SSO_PROVIDER_CHOICES,
    SSO_PROVIDERS,
    TOKEN_AUTH_METHOD_CHOICES,
)


def _public_id() -> str:
    return secrets.token_urlsafe(12)


@lru_cache(maxsize=4096)
def _public_path(name: str, public_id: str, urlconf: str, prefix: str) -> str:
    """A connection's URL path, reversed once per process (a SAML request
    needs its ACS URL and entity ID, and reversing costs more than a query's
    compilation); the key names everything the answer depends on."""
    return reverse(name, kwargs={"public_id": public_id}, urlconf=urlconf)


class Connection(models.Model):
    class Protocol(models.TextChoices):
        SAML = "saml", "SAML"
        OIDC = "oidc", "OIDC"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sso_connections"
    )
    public_id = models.CharField(max_length=32, unique=True, default=_public_id)
    protocol = models.CharField(
        max_length=8, choices=Protocol.choices, default=Protocol.SAML
    )
    provider = models.CharField(max_length=40, choices=SSO_PROVIDER_CHOICES)
    name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    idp_entity_id = models.CharField(max_length=1024, blank=True)
    sso_url = models.URLField(max_length=2048, blank=True)
    slo_url = models.URLField(max_length=2048, blank=True)
    metadata_url = models.URLField(max_length=2048, blank=True)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    metadata_error = models.CharField(max_length=300, blank=True)
    attribute_mapping = models.JSONField(default=dict, blank=True)
    allow_idp_initiated = models.BooleanField(default=False)
    allow_sha1 = models.BooleanField(default=False)
    jit_provisioning = models.BooleanField(default=False)
    # The SP key pair, for encrypted assertions and signed requests; published
    # in the SP metadata when present.
    sp_certificate = models.TextField(blank=True)
    sp_private_key = EncryptedTextField(blank=True)
    # OIDC: the provider's issuer and its discovery document as last fetched
    # (`metadata_fetched_at` and `metadata_error` say when and how it went).
    issuer = models.CharField(max_length=1024, blank=True)
    discovery = models.JSONField(default=dict, blank=True)
    client_id = models.CharField(max_length=255, blank=True)
    client_secret = EncryptedTextField(blank=True)
    scopes = models.CharField(max_length=300, blank=True)
    # How we authenticate at the token endpoint: empty picks
    # client_secret_basic where the provider offers it, else client_secret_post.
    token_auth_method = models.CharField(
        max_length=30, choices=TOKEN_AUTH_METHOD_CHOICES, blank=True
    )
    # Our RSA key for private_key_jwt (PEM); its public half is published at
    # `client_jwks_url`.
    client_signing_key = EncryptedTextField(blank=True)
    # Its replacement, published beside it from `client_signing_key_next_at`
    # and used to sign once providers have had time to fetch it.
    client_signing_key_next = EncryptedTextField(blank=True)
    client_signing_key_next_at = models.DateTimeField(null=True, blank=True)
    # Google: the Workspace domains whose `hd` claim may sign in.
    allowed_hosted_domains = models.JSONField(default=list, blank=True)
    # Microsoft: the Entra tenants whose `tid` claim may sign in.
    allowed_tenant_ids = models.JSONField(default=list, blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["organization", "state"], name="sso_conn_org_state"),
        ]

    def __str__(self):
        return self.name or self.provider_name

    @property
    def provider_info(self):
        return SSO_PROVIDERS[self.provider]

    @property
    def provider_name(self) -> str:
        provider = SSO_PROVIDERS.get(self.provider)
        return provider.name if provider else self.provider

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE

    @property
    def is_oidc(self) -> bool:
        return self.protocol == self.Protocol.OIDC

    def _public(self, name: str) -> str:
        urlconf = get_urlconf() or settings.ROOT_URLCONF
        path = _public_path(name, self.public_id, urlconf, get_script_prefix())
        return settings.PUBLIC_BASE_URL + path

    @cached_property
    def sp_entity_id(self) -> str:
        return self._public("sso:saml-metadata")

    @cached_property
    def acs_url(self) -> str:
        return self._public("sso:saml-acs")

    @cached_property
    def sp_metadata_url(self) -> str:
        return self.sp_entity_id

    @cached_property
    def login_url(self) -> str:
        if self.is_oidc:
            return self._public("sso:oidc-login")
        return self._public("sso:saml-login")

    @cached_property
    def redirect_uri(self) -> str:
        """Where every OIDC provider sends people back: one URL for all."""
        return settings.PUBLIC_BASE_URL + reverse("sso:oidc-callback")

    @cached_property
    def post_logout_redirect_uri(self) -> str:
        """Where OIDC providers send people back after signing out: one URL."""
        return settings.PUBLIC_BASE_URL + reverse("sso:oidc-signed-out")

    @cached_property
    def client_jwks_url(self) -> str:
        """Our public key for private_key_jwt, for the provider to fetch."""
        return self._public("sso:oidc-jwks")

    @cached_property
    def slo_return_url(self) -> str:
        return self._public("sso:saml-sls")


class IdpCertificate(models.Model):
    """One IdP signing certificate; several overlap while the IdP rotates."""

    class Source(models.TextChoices):
        METADATA = "metadata", "Metadata"
        MANUAL = "manual", "Added by hand"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="certificates"
    )
    pem = models.TextField()
    fingerprint_sha256 = models.CharField(max_length=95)
    subject = models.CharField(max_length=500, blank=True)
    not_before = models.DateTimeField(null=True)
    not_after = models.DateTimeField(null=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    # When the periodic check last saw this certificate within the warning
    # window; the portal shows the warning.
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["not_after", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "fingerprint_sha256"],
                name="sso_cert_unique_per_connection",
            ),
        ]

    def __str__(self):
        return self.subject or self.fingerprint_sha256[:23]


class Identity(models.Model):
    """The IdP's stable subject for a person, remembered after the first sign-in."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="identities"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=512)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "subject"], name="sso_identity_unique_subject"
            ),
            models.UniqueConstraint(
                fields=["connection", "user"], name="sso_identity_unique_user"
            ),
        ]

    def __str__(self):
        return self.subject


class LoginAttempt(models.Model):
    """One sign-in through a connection, accepted or refused, and why."""

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed in"
        TESTED = "tested", "Test passed"
        REFUSED = "refused", "Refused"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="attempts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=60, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    test = models.BooleanField(default=False)
    idp_initiated = models.BooleanField(default=False)
    subject = models.CharField(max_length=512, blank=True)
    email = models.CharField(max_length=254, blank=True)
    issuer = models.CharField(max_length=1024, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    mapped = models.JSONField(default=dict, blank=True)
    # The provider said it left the groups out (Entra past 200 groups): the
    # mapped groups are then unknown, not empty.
    groups_overage = models.BooleanField(default=False)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["connection", "-created_at"], name="sso_attempt_conn_time"
            ),
        ]

    def __str__(self):
        return f"{self.outcome} {self.reason}".strip()


class Policy(models.Model):
    """How an organisation signs in: with "require SSO", members must use SSO.

    `default_connection` is where people go whose email domain has no route
    of its own; without one, the oldest active connection.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="sso_policy"
    )
    require_sso = models.BooleanField(default=False)
    default_connection = models.ForeignKey(
        Connection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.organization}: require SSO {self.require_sso}"


class DomainRoute(models.Model):
    """The connection that people on one of the organisation's domains use."""

    domain = models.OneToOneField(
        OrganizationDomain, on_delete=models.CASCADE, related_name="sso_route"
    )
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="domain_routes"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain__domain"]

    def __str__(self):
        return f"{self.domain} -> {self.connection}"
