"""Sign in the benchmark's SCIM client as one fixed service user.

django-scim2 leaves authentication to the project: its auth check only asks
`request.user.is_authenticated`. The cheapest way to satisfy it is used
here, so that plain django-scim2 is measured at its best: a request whose
`Authorization` header equals `SCIM_PLAIN_TOKEN` (compared in constant time)
gets the service user, loaded once per worker process. That costs no query,
no password or token hash and no session per request. The alternatives cost
more: `RemoteUserMiddleware` looks the user up and calls `login()` on every
request (a session write), and a hashed bearer token needs a lookup and a
hash per request, as our own SCIM endpoint does.
"""

import hmac

from django.conf import settings

from bench.plain_scim_project.accounts.models import User

SERVICE_USERNAME = "scim-service"


class ServiceUserMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.token = settings.SCIM_PLAIN_TOKEN.encode()
        self.user = None

    def __call__(self, request):
        supplied = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(supplied, self.token):
            if self.user is None:
                self.user = User.objects.get(username=SERVICE_USERNAME)
            request.user = self.user
        return self.get_response(request)
