"""The product core: organisations, their people, teams, positions and audit trail.

Tenancy is enforced twice. Services refuse to link a person to a manager, team or
position of another organisation, and on PostgreSQL composite foreign keys make
the database refuse it too (see migration 0002): a user's `(team_id,
organization_id)` must name a team of the same organisation, `(position_id,
team_id)` a position of the user's own team, and `(manager_id,
organization_id)` a user of the same organisation.
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Trim


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganizationDomain(models.Model):
    """An email domain that belongs to one organisation, used to find its sign-in."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="domains"
    )
    domain = models.CharField(max_length=253)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(Lower("domain"), name="organizationdomain_unique"),
        ]

    def __str__(self):
        return self.domain


class Team(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower(Trim("name")), name="team_unique_name"
            ),
            # The target of the users' composite foreign key.
            models.UniqueConstraint(
                fields=["id", "organization"], name="team_unique_id_organization"
            ),
        ]

    def __str__(self):
        return self.name


class Position(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="positions")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "team", Lower(Trim("name")), name="position_unique_name"
            ),
            models.UniqueConstraint(
                fields=["id", "team"], name="position_unique_id_team"
            ),
        ]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        DIRECTORY = "directory", "Directory"

    # Indexed by the composite indexes below, which start with it; a separate
    # index would only cost every insert.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="users", db_index=False
    )
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        db_index=False,  # user_team_name_idx starts with it
    )
    position = models.ForeignKey(
        Position,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="holders",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_reason = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    source = models.CharField(
        max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_unique_email"),
            models.UniqueConstraint(
                fields=["id", "organization"], name="user_unique_id_organization"
            ),
            models.CheckConstraint(
                condition=Q(position__isnull=True) | Q(team__isnull=False),
                name="user_position_needs_team",
            ),
            models.CheckConstraint(
                condition=~Q(manager=models.F("id")), name="user_not_own_manager"
            ),
            models.CheckConstraint(
                condition=(Q(status="active") & Q(archived_at__isnull=True))
                | (Q(status="archived") & Q(archived_at__isnull=False)),
                name="user_archived_at_matches_status",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "last_name", "first_name", "id"],
                name="user_org_name_idx",
            ),
            models.Index(
                fields=["organization", "status", "last_name", "first_name", "id"],
                name="user_org_status_name_idx",
            ),
            models.Index(
                fields=["team", "last_name", "first_name", "id"],
                name="user_team_name_idx",
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_active(self) -> bool:
        """Archived people cannot sign in; Django's auth reads this."""
        return self.status == self.Status.ACTIVE

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN and self.is_active


class AuditEvent(models.Model):
    """One change to an organisation's data, who made it and what it changed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who acted when there is no person: "system", "directory:12", "operator".
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "-created_at", "-id"], name="audit_org_time_idx"
            ),
        ]

    def __str__(self):
        return f"{self.action} {self.target_type}:{self.target_id}"
