"""What the portal's views share across the apps."""

from collections.abc import Callable

from django.contrib import messages

from progression.errors import ProgressionError


def carried_out(request, success: str | Callable, service: Callable, **arguments):
    """Call `service` with `arguments` and say how it went.

    Flashes `success` (or, when it is a function, what it makes of the
    service's result) when the service ran, and the refusal's own message
    when it raised a `ProgressionError`. Returns whether it ran.
    """
    try:
        result = service(**arguments)
    except ProgressionError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success(result) if callable(success) else success)
    return True
