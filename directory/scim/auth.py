"""Bearer-token authentication of SCIM requests, one directory per token.

The directory comes from the URL and the token must be that directory's: a
token of directory A presented on directory B's URL is refused exactly like
a wrong token, so the answer says nothing about whether B exists.
"""

import hmac
import logging
import uuid

from billing.models import Subscription
from directory.models import Directory
from directory.services import token_digest
from progression.models import Organization
from progression.queries import Joined, RowQuery

security_logger = logging.getLogger("progression.security")

# The directory's row, its organisation's and its subscription's (if any).
_DIRECTORY = RowQuery(
    (
        Joined(Directory, "d"),
        Joined(Organization, "o", 'JOIN {table} o ON o."id" = d."organization_id"'),
        Joined(
            Subscription, "s", 'LEFT JOIN {table} s ON s."organization_id" = o."id"'
        ),
    ),
    'd."public_id" = %s',
    prepared=True,
)


def authenticate(request, public_id: uuid.UUID) -> Directory | None:
    """Return the directory whose URL and token both match, or None.

    One query brings the directory with its organisation and the
    organisation's subscription, which the entitlement check reads next.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    directory = _directory(public_id)
    # Compare even when there is no directory, so timing does not tell.
    expected = directory.token_hash if directory is not None else "0" * 64
    supplied = token_digest(token) if scheme.lower() == "bearer" and token else ""
    if not supplied or not hmac.compare_digest(expected, supplied):
        security_logger.warning(
            "scim token refused",
            extra={"directory_id": directory.pk if directory else None},
        )
        return None
    return directory


def _directory(public_id: uuid.UUID) -> Directory | None:
    # Compiled once per process: the lookup precedes every SCIM request, and
    # compiling the equivalent queryset costs more than running it.
    instances = _DIRECTORY.one([public_id])
    if instances is None:
        return None
    directory, organization, subscription = instances
    directory.organization = organization
    # As select_related would: `organization.subscription` reads the loaded
    # row, and raises DoesNotExist without a query when there is none.
    Organization.subscription.related.set_cached_value(organization, subscription)
    return directory
