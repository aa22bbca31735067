"""What link resolution leaves behind: open sync issues and when it last ran.

A `LinkIssue` is one reference a directory sent that could not be applied: a
manager no one matches, a department without a team, a title without a
position in the person's team. Resolution replaces an organisation's issues on
every run, so an issue disappears by itself once the data is fixed.
"""

from django.db import models

from progression.models import Organization

# Why a reference was not applied; `{value}` is what the directory sent and
# `{team}` the team a position was looked for in. Tests import these.
REASONS = {
    "manager_unmatched": "no person matches manager '{value}'",
    "manager_ambiguous": "more than one person matches manager '{value}'",
    "manager_unprovisioned": "manager '{value}' has no email address yet",
    "manager_archived": "manager '{value}' is archived",
    "manager_self": "manager '{value}' is this person",
    "manager_loop": "manager '{value}' reports to this person, which makes a loop",
    "team_unmatched": "no team named '{value}'",
    "position_unmatched": "no position named '{value}' in team '{team}'",
    "position_no_team": "no team to look for position '{value}' in",
}


class LinkIssue(models.Model):
    class Kind(models.TextChoices):
        MANAGER = "manager", "Manager"
        TEAM = "team", "Team"
        POSITION = "position", "Position"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="link_issues"
    )
    directory_user = models.ForeignKey(
        "directory.DirectoryUser", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        "progression.User", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    code = models.CharField(max_length=30)
    # The reference as the directory sent it.
    value = models.CharField(max_length=255)
    # The team a position was looked for in, when the issue is a position.
    team_name = models.CharField(max_length=200, blank=True)
    # When the issue first appeared; a run that finds it again keeps the row.
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "value", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="linkissue_one_per_user_kind"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "kind", "value"], name="linkissue_org_idx"
            ),
        ]

    def __str__(self):
        return f"{self.kind}: {self.reason}"

    @property
    def reason(self) -> str:
        return REASONS[self.code].format(value=self.value, team=self.team_name)


class LinkStatus(models.Model):
    """Per organisation: when links were last resolved, and how that went."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="link_status"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Completed runs, ever; coalescing is measured by how slowly this grows.
    runs = models.PositiveIntegerField(default=0)
    last_people = models.PositiveIntegerField(default=0)
    last_changed = models.PositiveIntegerField(default=0)
    last_duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "link statuses"

    def __str__(self):
        return f"links of {self.organization_id} resolved at {self.resolved_at}"
