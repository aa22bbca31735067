"""Which of an organisation's connections each of its email domains uses.

An organisation may run a SAML and an OIDC connection side by side (two
subsidiaries, a migration between IdPs). Each of its domains can be routed
to one connection; the policy's default connection takes the domains without
a route, and without a default the oldest active connection does. A route or
default pointing at a connection that is not active is passed over, so
turning a connection off never strands anyone.
"""

from django.db import transaction

from progression.errors import CrossOrganizationError
from progression.models import Organization, OrganizationDomain
from progression.services.audit import Actor, audit_record
from sso.models import Connection, DomainRoute, Policy

NOT_OURS = "That domain or connection does not belong to this organisation."


def connection_for_domain(domain: OrganizationDomain) -> Connection | None:
    """The active connection people on this domain sign in through, or None."""
    active = Connection.objects.filter(
        organization_id=domain.organization_id, state=Connection.State.ACTIVE
    ).select_related("organization")
    route = DomainRoute.objects.filter(domain=domain).first()
    if route is not None:
        routed = active.filter(pk=route.connection_id).first()
        if routed is not None:
            return routed
    policy = Policy.objects.filter(organization_id=domain.organization_id).first()
    if policy is not None and policy.default_connection_id:
        default = active.filter(pk=policy.default_connection_id).first()
        if default is not None:
            return default
    return active.first()


def routes_of(organization: Organization) -> list[dict]:
    """Each domain of the organisation with its routed connection id (or None)."""
    routes = dict(
        DomainRoute.objects.filter(domain__organization=organization).values_list(
            "domain_id", "connection_id"
        )
    )
    return [
        {"domain": domain, "connection_id": routes.get(domain.pk)}
        for domain in OrganizationDomain.objects.filter(organization=organization)
    ]


def routing_set(
    *,
    organization: Organization,
    actor: Actor,
    routes: dict[int, int | None],
    default_connection_id: int | None,
) -> None:
    """Route domains to connections and choose the default, in one change.

    `routes` maps domain ids to connection ids (None: no route of its own).
    Every id must belong to `organization`; otherwise nothing changes.
    """
    domains = {
        d.pk: d
        for d in OrganizationDomain.objects.filter(
            organization=organization, pk__in=list(routes)
        )
    }
    wanted = {c for c in [*routes.values(), default_connection_id] if c is not None}
    owned = set(
        Connection.objects.filter(organization=organization, pk__in=wanted).values_list(
            "pk", flat=True
        )
    )
    if len(domains) != len(routes) or owned != wanted:
        raise CrossOrganizationError(NOT_OURS)

    before = {
        "routes": {
            str(r["domain"]): r["connection_id"] for r in routes_of(organization)
        },
    }
    with transaction.atomic():
        policy, _ = Policy.objects.get_or_create(organization=organization)
        before["default_connection"] = policy.default_connection_id
        for domain_id, connection_id in routes.items():
            if connection_id is None:
                DomainRoute.objects.filter(domain_id=domain_id).delete()
            else:
                DomainRoute.objects.update_or_create(
                    domain_id=domain_id, defaults={"connection_id": connection_id}
                )
        policy.default_connection_id = default_connection_id
        policy.save()
        audit_record(
            organization=organization,
            actor=actor,
            action="sso.routing.updated",
            target=policy,
            before=before,
            after={
                "routes": {
                    str(r["domain"]): r["connection_id"]
                    for r in routes_of(organization)
                },
                "default_connection": default_connection_id,
            },
        )
