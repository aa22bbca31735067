"""SCIM errors (RFC 7644 §3.12) and the one place project errors become them."""

from progression.errors import (
    ConflictError,
    CrossOrganizationError,
    ProgressionError,
    ValidationFailedError,
)

UNAUTHORIZED = "A valid bearer token for this directory is required."
DIRECTORY_INACTIVE = "This directory is deactivated; reactivate it in the portal."
NOT_FOUND = "No such resource in this directory."
INVALID_JSON = "The request body is not valid JSON."
BODY_NOT_OBJECT = "The request body must be a JSON object."
BODY_TOO_LARGE = "The request body is too large."
METHOD_NOT_ALLOWED = "This endpoint does not support that method."
NOT_IMPLEMENTED = "This server does not implement that endpoint."


class ScimError(Exception):
    """A SCIM error response: HTTP status, optional scimType, a readable detail."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def scim_error_from(exc: ProgressionError) -> ScimError:
    """Translate a service refusal into the SCIM error an IdP understands."""
    if isinstance(exc, ConflictError):
        return ScimError(409, exc.message, "uniqueness")
    if isinstance(exc, CrossOrganizationError):
        return ScimError(404, NOT_FOUND)
    if isinstance(exc, ValidationFailedError):
        return ScimError(400, exc.message, "invalidValue")
    return ScimError(400, exc.message)
