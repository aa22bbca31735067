"""Directories and the directory's own view of the people and groups it pushes.

A directory belongs to one organisation. Everything below it (directory users,
groups, memberships, the request log) hangs off the directory, so a query
scoped to a directory is scoped to its organisation.
"""

import json
import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Replace, Trim, Upper

from progression.crypto import EncryptedTextField
from progression.models import Organization


class Provider(models.TextChoices):
    AZURE_SCIM_V2 = "azure-scim-v2", "Microsoft Entra ID (SCIM 2.0)"
    OKTA_SCIM_V2 = "okta-scim-v2", "Okta (SCIM 2.0)"
    OKTA_SCIM_V1_1 = "okta-scim-v1.1", "Okta (SCIM 1.1)"
    GENERIC_SCIM_V2 = "generic-scim-v2", "Any SCIM 2.0 client"
    GENERIC_SCIM_V1_1 = "generic-scim-v1.1", "Any SCIM 1.1 client"
    RIPPLING = "rippling", "Rippling (SCIM 2.0)"
    BAMBOOHR = "bamboohr", "BambooHR"
    GUSTO = "gusto", "Gusto"
    HIBOB = "hibob", "HiBob"
    WORKDAY = "workday", "Workday"
    GOOGLE_WORKSPACE = "google-workspace", "Google Workspace"


SCIM_V1_PROVIDERS = frozenset({Provider.OKTA_SCIM_V1_1, Provider.GENERIC_SCIM_V1_1})
# Directories that Progression reads on a schedule instead of being pushed to.
HR_PROVIDERS = frozenset(
    {
        Provider.BAMBOOHR,
        Provider.GUSTO,
        Provider.HIBOB,
        Provider.WORKDAY,
        Provider.GOOGLE_WORKSPACE,
    }
)


class Directory(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        # An HR directory whose credentials or setup a person must fix.
        ATTENTION = "attention", "Needs attention"

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
    # HR directories: the provider's credentials as encrypted JSON text, an
    # optional API root in place of the provider's, the schedule, and the
    # archive threshold above which a sync waits for an admin's approval.
    credentials = EncryptedTextField(blank=True, default="")
    api_base_url = models.URLField(max_length=500, blank=True)
    sync_interval_minutes = models.PositiveIntegerField(default=60)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    archive_threshold_percent = models.PositiveSmallIntegerField(default=10)
    archive_threshold_people = models.PositiveIntegerField(default=25)
    # Google Workspace: the groups whose members are provisioned, as
    # [{"id", "email", "name"}], chosen before the directory is activated.
    sync_groups = models.JSONField(default=list, blank=True)
    attention_message = models.CharField(max_length=500, blank=True)
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

    @property
    def is_pull(self) -> bool:
        """An HR directory, which Progression reads rather than being pushed to."""
        return self.provider in HR_PROVIDERS

    @property
    def credentials_data(self) -> dict:
        return json.loads(self.credentials) if self.credentials else {}


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
    # Pull syncs: a digest of the record as last applied, so that an identical
    # record is recognised without reading the rest of the row.
    record_digest = models.CharField(max_length=64, blank=True)
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
            # Who names a given person as manager, compared as link
            # resolution compares: without spaces, case or hyphens.
            models.Index(
                Replace(
                    Lower(Trim("manager_ref")), models.Value("-"), models.Value("")
                ),
                condition=~models.Q(manager_ref=""),
                name="diruser_manager_name_idx",
            ),
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


class SyncRun(models.Model):
    """One pull sync of an HR directory: how it went, what it changed."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Sync now"
        OPERATOR = "operator", "Operator command"
        APPROVAL = "approval", "Archive approved"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        # A held run that an approval or a newer run replaced.
        SUPERSEDED = "superseded", "Superseded"

    class Phase(models.TextChoices):
        FETCHING = "fetching", "Reading the directory"
        RECONCILING = "reconciling", "Applying changes"
        DONE = "done", "Done"

    directory = models.ForeignKey(
        Directory, on_delete=models.CASCADE, related_name="sync_runs"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.RUNNING
    )
    phase = models.CharField(
        max_length=12, choices=Phase.choices, default=Phase.FETCHING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    reactivated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # People the rules refused (an email someone else holds, no userName):
    # how many, and the first few as {"user_name", "code", "message"}.
    failed = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    # Held mass archive: [{"directory_user_id", "user_id", "email", "name"}].
    pending_archive = models.JSONField(default=list, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # A run started by an approval: the held run whose list it may archive.
    approves = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["directory", "-id"], name="syncrun_dir_idx"),
        ]

    def __str__(self):
        return f"sync {self.pk} of directory {self.directory_id}: {self.state}"

    @property
    def duration(self):
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class SyncStagedRecord(models.Model):
    """One person read during a sync, held until the whole fetch has succeeded.

    A sync reconciles only after every page arrived, so what it read waits
    here, in the database, rather than in the worker's memory.
    """

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+")
    # The upper-cased userName: the order reconciliation walks and its key.
    key = models.CharField(max_length=255)
    digest = models.CharField(max_length=64, default="")
    active = models.BooleanField(default=True)
    # The normalised fields as JSON text: written and read back as is, and
    # decoded only for the records that changed.
    fields = models.TextField()

    class Meta:
        # Not unique: a provider that lists one person twice is read once, the
        # first time, by the key-ordered walk of reconciliation.
        indexes = [models.Index(fields=["run", "key", "id"], name="syncstaged_idx")]

    def __str__(self):
        return self.key


from directory.models_links import LinkIssue, LinkStatus  # noqa: E402, F401
