"""The project's error base: every refusal a service makes has a stable code."""


class ProgressionError(Exception):
    """A refusal that an edge (view, command, SCIM, task) turns into a message."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailedError(ProgressionError):
    code = "invalid"


class ConflictError(ProgressionError):
    code = "conflict"


class CrossOrganizationError(ProgressionError):
    """An object of another organisation was named; edges answer it as not found."""

    code = "cross_organization"
