"""Test sign-ins and the log of sign-in attempts of a connection."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from progression.access import admin_required
from sso import flows
from sso.oidc.errors import OidcRejectedError
from sso.providers import MAPPED_FIELDS
from sso.saml import SamlRejectedError
from sso.views import oidc
from sso.views.portal._common import _connection

GROUPS_OVERAGE = (
    "Groups were not included: this person is in more groups than the "
    "identity provider puts in a token (Entra: more than 200), so it sent a "
    "pointer to Microsoft Graph instead, which Progression does not read. "
    "Their groups are unknown, not empty. In Entra, open the app "
    "registration's Token configuration, edit the groups claim and choose "
    '"Groups assigned to the application" (then assign the groups that '
    "matter to the enterprise application), or filter the groups it sends."
)
ATTEMPTS_PAGE_SIZE = 50


@admin_required
@require_POST
def connection_test(request, pk):
    """Send the admin through the IdP in test mode: see, don't sign in."""
    connection = _connection(request, pk)
    try:
        if connection.is_oidc:
            url = oidc.start_test_sign_in(request, connection)
        else:
            url = flows.login_start(connection=connection, test_by=request.user.pk)
    except (SamlRejectedError, OidcRejectedError) as exc:
        messages.error(request, exc.message)
        return redirect("sso:connection", pk=connection.pk)
    return redirect(url)


@admin_required
def connection_test_result(request, pk, attempt):
    connection = _connection(request, pk)
    attempt = get_object_or_404(connection.attempts, pk=attempt, test=True)
    mapping = connection.attribute_mapping or {}
    rows = [
        {
            "field": field,
            "attribute": mapping.get(field)
            or ("sub" if connection.is_oidc else "NameID"),
            "value": attempt.mapped.get(field),
        }
        for field in MAPPED_FIELDS
    ]
    return render(
        request,
        "sso/test_result.html",
        {
            "connection": connection,
            "attempt": attempt,
            "rows": rows,
            "groups_overage_notice": GROUPS_OVERAGE,
            "section": "sso",
        },
    )


@admin_required
def connection_attempts(request, pk):
    connection = _connection(request, pk)
    page = Paginator(connection.attempts.all(), ATTEMPTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "sso/attempts.html",
        {"connection": connection, "page": page, "section": "sso"},
    )
