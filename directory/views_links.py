"""The portal's Sync issues page: directory references that link to nothing.

Admins only, and only their own organisation's issues. Nothing is resolved
here: an admin fixes the data (creates the team, corrects the directory) and
the issue disappears after the next resolution.
"""

from django.core.paginator import Paginator
from django.db.models import Count, F, Min, Window
from django.db.models.functions import RowNumber
from django.shortcuts import render

from directory.links_queue import pending_store
from directory.models_links import REASONS, LinkIssue, LinkStatus
from progression.access import admin_required

PAGE_SIZE = 50
# How many of the people affected by one issue the page names.
PEOPLE_SHOWN = 5
NO_ISSUES = "Every manager, team and position the directories send is linked."
NEVER_RESOLVED = "Links have not been resolved yet."
WAITING = (
    "Recent changes are waiting to be resolved; this page shows the state before them."
)
HINTS = {
    LinkIssue.Kind.MANAGER: (
        "Check the manager in the directory: it must name someone the "
        "directory provisions, or the email address of a person here."
    ),
    LinkIssue.Kind.TEAM: "Create a team with this name, or correct the department.",
    LinkIssue.Kind.POSITION: (
        "Create this position in the team, or correct the title in the directory."
    ),
}


def _people_by_issue(issues, groups):
    """The first few people of each issue group on the page, in one query."""
    keys = {(g["kind"], g["code"], g["value"], g["team_name"]) for g in groups}
    if not keys:
        return {}
    ranked = (
        issues.filter(kind__in={k[0] for k in keys}, value__in={k[2] for k in keys})
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("kind"), F("code"), F("value"), F("team_name")],
                order_by=[F("user__email").asc()],
            )
        )
        .filter(rank__lte=PEOPLE_SHOWN)
        .select_related("user")
    )
    people = {}
    for issue in ranked:
        key = (issue.kind, issue.code, issue.value, issue.team_name)
        if key in keys:
            people.setdefault(key, []).append(issue.user)
    return people


@admin_required
def sync_issues(request):
    """Unresolved managers, teams and positions, with the people they affect."""
    organization_id = request.user.organization_id
    issues = LinkIssue.objects.filter(organization_id=organization_id)
    kind = request.GET.get("kind", "")
    if kind not in LinkIssue.Kind.values:
        kind = ""

    shown = issues.filter(kind=kind) if kind else issues
    groups = (
        shown.values("kind", "code", "value", "team_name")
        .annotate(people=Count("id"), since=Min("created_at"))
        .order_by("kind", "-people", "value", "code", "team_name")
    )
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    people = _people_by_issue(shown, page.object_list)
    rows = [
        {
            **group,
            "reason": REASONS[group["code"]].format(
                value=group["value"], team=group["team_name"]
            ),
            "hint": HINTS[group["kind"]],
            "named": people.get(
                (group["kind"], group["code"], group["value"], group["team_name"]),
                [],
            ),
        }
        for group in page.object_list
    ]
    for row in rows:
        row["more"] = row["people"] - len(row["named"])
    counts = dict(
        issues.values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    context = {
        "section": "directory",
        "page": page,
        "rows": rows,
        "kind": kind,
        "kinds": LinkIssue.Kind.choices,
        "counts": {value: counts.get(value, 0) for value in LinkIssue.Kind.values},
        "status": LinkStatus.objects.filter(organization_id=organization_id).first(),
        "waiting": WAITING if not pending_store().claim(organization_id).empty else "",
        "query_string": f"kind={kind}" if kind else "",
        "no_issues": NO_ISSUES,
        "never_resolved": NEVER_RESOLVED,
    }
    return render(request, "directory/sync_issues.html", context)
