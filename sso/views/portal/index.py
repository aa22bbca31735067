"""The SSO section's front page and what it posts: a new connection, the
sign-in policy and domain routing."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from billing.entitlements import entitlement
from progression.access import admin_required
from progression.errors import CrossOrganizationError
from sso import routing
from sso.forms import NewConnectionForm, PolicyForm
from sso.models import Policy
from sso.oidc.providers import SSO_PROVIDERS
from sso.services import connections as connection_services
from sso.services import policy as policy_services
from sso.views.portal._common import _connections

CONNECTION_CREATED = "The connection was created. Follow the steps below."
POLICY_SAVED = "Sign-in policy saved."
ROUTING_SAVED = "Domain routing saved."


@admin_required
def index(request):
    """The organisation's connections, the sign-in policy and the IdP picker."""
    policy = Policy.objects.filter(organization_id=request.user.organization_id).first()
    connections = _connections(request).prefetch_related("certificates")
    context = {
        "connections": connections,
        "routes": routing.routes_of(request.user.organization),
        "default_connection_id": policy.default_connection_id if policy else None,
        "providers": SSO_PROVIDERS.values(),
        "policy_form": PolicyForm(
            initial={"require_sso": bool(policy and policy.require_sso)}
        ),
        "entitlement": entitlement(request.user.organization),
        "section": "sso",
    }
    return render(request, "sso/index.html", context)


@admin_required
@require_POST
def connection_new(request):
    form = NewConnectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an identity provider.")
        return redirect("sso:index")
    connection = connection_services.connection_create(
        organization=request.user.organization,
        provider=form.cleaned_data["provider"],
        actor=request.user,
    )
    messages.success(request, CONNECTION_CREATED)
    return redirect("sso:connection", pk=connection.pk)


@admin_required
@require_http_methods(["POST"])
def policy(request):
    form = PolicyForm(request.POST)
    form.is_valid()
    policy_services.policy_set(
        organization=request.user.organization,
        require_sso=bool(form.cleaned_data.get("require_sso")),
        actor=request.user,
    )
    messages.success(request, POLICY_SAVED)
    return redirect("sso:index")


def _id_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


@admin_required
@require_POST
def routing_save(request):
    """Route each domain to a connection and choose the default connection.

    The form posts `route-<domain id>` per domain and `default_connection`;
    an id of another organisation's domain or connection answers 404.
    """
    organization = request.user.organization
    routes = {
        int(name.removeprefix("route-")): _id_or_none(value)
        for name, value in request.POST.items()
        if name.startswith("route-") and name.removeprefix("route-").isdigit()
    }
    try:
        routing.routing_set(
            organization=organization,
            actor=request.user,
            routes=routes,
            default_connection_id=_id_or_none(request.POST.get("default_connection")),
        )
    except CrossOrganizationError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, ROUTING_SAVED)
    return redirect("sso:index")
