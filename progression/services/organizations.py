"""Create an organisation and claim the email domains it owns."""

import logging
import re

from django.db import transaction
from django.utils.text import slugify

from progression.errors import ConflictError, ValidationFailedError
from progression.models import Organization, OrganizationDomain
from progression.services._common import _clean_name
from progression.services.audit import Actor, audit_record
from progression.services.messages import (
    DOMAIN_INVALID,
    DOMAIN_TAKEN,
    SLUG_INVALID,
    SLUG_TAKEN,
)

logger = logging.getLogger(__name__)

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def organization_create(
    *,
    name: str,
    slug: str = "",
    domains: tuple[str, ...] | list[str] = (),
    actor: Actor = "operator",
) -> Organization:
    """Create an organisation with its email domains."""
    name = _clean_name(name)
    slug = (slug or slugify(name))[:60]
    if not _SLUG_RE.match(slug):
        raise ValidationFailedError(SLUG_INVALID, code="slug_invalid")
    if Organization.objects.filter(slug=slug).exists():
        raise ConflictError(SLUG_TAKEN, code="slug_taken")

    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug)
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.created",
            target=organization,
            after={"name": name, "slug": slug},
        )
        for domain in domains:
            organization_domain_add(
                organization=organization, domain=domain, actor=actor
            )
    logger.info("organization created", extra={"organization_id": organization.pk})
    return organization


def organization_domain_add(
    *, organization: Organization, domain: str, actor: Actor
) -> OrganizationDomain:
    """Claim an email domain for an organisation; a domain has one owner."""
    domain = (domain or "").strip().lower().rstrip(".")
    if not _DOMAIN_RE.match(domain):
        raise ValidationFailedError(DOMAIN_INVALID, code="domain_invalid")
    if OrganizationDomain.objects.filter(domain__iexact=domain).exists():
        raise ConflictError(DOMAIN_TAKEN, code="domain_taken")

    with transaction.atomic():
        record = OrganizationDomain.objects.create(
            organization=organization, domain=domain
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="domain.added",
            target=record,
            after={"domain": domain},
        )
    return record
