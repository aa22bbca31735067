"""The WSGI application: Django's handler, and a leaner one for machines.

Requests under `MACHINE_PATH_PREFIXES` (SCIM) come from identity providers
and HR systems with a bearer token, never from a browser. Sessions, CSRF,
authentication, messages, static files and frame options do nothing for
them, yet on a SCIM create they cost about a tenth of the request's CPU
(`docs/scim.md`). Those requests are served by a handler built from
`MACHINE_MIDDLEWARE` (the security headers and the common checks); every
other request by the usual one, built from `MIDDLEWARE`.
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


class MachineHandler(WSGIHandler):
    """Django's WSGI handler with `MACHINE_MIDDLEWARE` as its middleware."""

    def load_middleware(self, is_async=False):
        # Django builds a handler's middleware from `settings.MIDDLEWARE`
        # alone; overriding the setting while it does is its supported way to
        # build one from another list. It happens once, as the process loads.
        from django.test.utils import override_settings

        with override_settings(MIDDLEWARE=settings.MACHINE_MIDDLEWARE):
            super().load_middleware(is_async)


def split_application(browser: WSGIHandler):
    """A WSGI application that serves machine paths through a `MachineHandler`
    and everything else through `browser`."""
    machine = MachineHandler()
    prefixes = tuple(settings.MACHINE_PATH_PREFIXES)

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(prefixes):
            return machine(environ, start_response)
        return browser(environ, start_response)

    return application
