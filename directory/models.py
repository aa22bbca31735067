"""Directories and the directory's own view of the people and groups it pushes.

A directory belongs to one organisation. Everything below it (directory users,
groups, memberships, the request log) hangs off the directory, so a query
scoped to a directory is scoped to its organisation.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

from progression.models import Organization


class Provider(models.TextChoices):
    AZURE_SCIM_V2 = "azure-scim-v2", "Microsoft Entra ID (SCIM 2.0)"
    OKTA_SCIM_V2 = "okta-scim-v2", "Okta (SCIM 2.0)"
    OKTA_SCIM_V1_1 = "okta-scim-v1.1", "Okta (SCIM 1.1)"
    GENERIC_SCIM_V2 = "generic-scim-v2", "Any SCIM 2.0 client"
    GENERIC_SCIM_V1_1 = "generic-scim-v1.1", "Any SCIM 1.1 client"
    RIPPLING = "rippling", "Rippling (SCIM 2.0)"


SCIM_V1_PROVIDERS = frozenset({Provider.OKTA_SCIM_V1_1, Provider.GENERIC_SCIM_V1_1})


class Directory(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="directories"
    )
    # The identifier in SCIM base URLs; the primary key stays internal.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=30, choices=Provider.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    # SHA-256 of the bearer token; the token itself is shown once and not kept.
    token_hash = models.CharField(max_length=64, blank=True)
    token_hint = models.CharField(max_length=12, blank=True)
    token_rotated_at = models.DateTimeField(null=True, blank=True)
    # With a group scope, only members of `scope_groups` are provisioned; a
    # scope whose groups were all deleted by the IdP provisions no one.
    group_scope_enabled = models.BooleanField(default=False)
    scope_groups = models.ManyToManyField(
        "DirectoryGroup", blank=True, related_name="scoping_directories"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "directories"

    def __str__(self):
        return self.name

    @property
    def scim_version(self) -> str:
        return "v1" if self.provider in SCIM_V1_PROVIDERS else "v2"

    @property
    def actor_label(self) -> str:
        return f"directory:{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE


class DirectoryUser(models.Model):
    """A person as the directory describes them, linked to a Progression user."""

    directory = models.ForeignKey(
        Directory, on_delete=models.CASCADE, related_name="users"
    )
    # The id we issue to the IdP (SCIM `id`); the link survives email changes.
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255, blank=True)
    user_name = models.CharField(max_length=255)
    # The SCIM resource as last received (password, id and meta removed).
    attributes = models.JSONField(default=dict)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)
    # Raw references kept for link resolution: manager as sent (an IdP id or
    # an email), department and title as free text.
    manager_ref = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    # DELETE from the IdP: hidden from SCIM, the person archived, the row kept.
    deleted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="directory_records",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # userName is case-insensitive in SCIM; this index also serves the
            # `userName eq` filter that every IdP sends before a create.
            models.UniqueConstraint(
                "directory",
                Upper("user_name"),
                condition=models.Q(deleted_at__isnull=True),
                name="directoryuser_unique_user_name",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(user__isnull=False, deleted_at__isnull=True),
                name="directoryuser_one_live_record_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["directory", "external_id"], name="diruser_ext_idx"),
            models.Index("directory", Upper("email"), name="diruser_email_idx"),
            models.Index(fields=["directory", "id"], name="diruser_dir_id_idx"),
        ]

    def __str__(self):
        return self.user_name


class DirectoryGroup(models.Model):
    directory = models.ForeignKey(
        Directory, on_delete=models.CASCADE, related_name="groups"
    )
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255)
    attributes = models.JSONField(default=dict)
    members = models.ManyToManyField(
        DirectoryUser, through="DirectoryMembership", related_name="groups"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["directory", "id"], name="dirgroup_dir_id_idx"),
            models.Index("directory", Upper("display_name"), name="dirgroup_name_idx"),
        ]

    def __str__(self):
        return self.display_name


class DirectoryMembership(models.Model):
    group = models.ForeignKey(
        DirectoryGroup, on_delete=models.CASCADE, related_name="memberships"
    )
    directory_user = models.ForeignKey(
        DirectoryUser, on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "directory_user"], name="directorymembership_unique"
            ),
        ]

    def __str__(self):
        return f"{self.directory_user_id} in {self.group_id}"


class DirectoryRequest(models.Model):
    """One SCIM request: what was asked and how it went, never a token or a body."""

    directory = models.ForeignKey(
        Directory, on_delete=models.CASCADE, related_name="requests"
    )
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField(default=0)
    # A redacted summary: resource type, operation names and attribute names.
    summary = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["directory", "-id"], name="dirrequest_dir_idx"),
        ]

    def __str__(self):
        return f"{self.method} {self.path} {self.status}"


from directory.models_links import LinkIssue, LinkStatus  # noqa: E402, F401
