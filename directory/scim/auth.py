"""Bearer-token authentication of SCIM requests, one directory per token.

The directory comes from the URL and the token must be that directory's: a
token of directory A presented on directory B's URL is refused exactly like
a wrong token, so the answer says nothing about whether B exists.
"""

import hmac
import logging
import uuid

from directory.models import Directory
from directory.services import token_digest

security_logger = logging.getLogger("progression.security")


def authenticate(request, public_id: uuid.UUID) -> Directory | None:
    """Return the directory whose URL and token both match, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    directory = next(
        iter(
            Directory.objects.select_related("organization")
            .filter(public_id=public_id)
            .order_by()[:1]
        ),
        None,
    )
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
