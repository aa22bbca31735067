"""The WSGI application production serves, driven directly.

The test client builds its handler from `MIDDLEWARE`; these tests go through
`progression.wsgi.application`, which serves SCIM with `MACHINE_MIDDLEWARE`
and everything else with the full stack.
"""

import json

import pytest

from directory.models import DirectoryUser
from directory.services import directory_create
from tests.wsgi import wsgi_call

pytestmark = pytest.mark.django_db(transaction=True)


def _call(method, path, *, body=b"", headers=None):
    status, response_headers, content = wsgi_call(
        method, path, body=body, headers=headers
    )
    names = {name.lower() for name, _ in response_headers}
    return status, names, dict(response_headers), content


@pytest.fixture
def scim(entitled):
    directory, token = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    return f"/scim/v2/{directory.public_id}", token


def test_scim_create_through_the_machine_stack(scim):
    base, token = scim
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada@acme.example",
        "emails": [{"primary": True, "value": "ada@acme.example"}],
    }

    status, names, headers, content = _call(
        "POST",
        f"{base}/Users",
        body=json.dumps(body).encode(),
        headers={
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_TYPE": "application/scim+json",
        },
    )

    assert status == 201
    assert json.loads(content)["userName"] == "ada@acme.example"
    assert DirectoryUser.objects.get(user_name="ada@acme.example").user is not None
    # The security middleware ran; the browser's did not.
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert {"set-cookie", "x-frame-options", "vary"}.isdisjoint(names)


def test_scim_refusal_through_the_machine_stack(scim):
    base, _ = scim

    status, _, headers, content = _call(
        "GET", f"{base}/Users", headers={"HTTP_AUTHORIZATION": "Bearer wrong"}
    )

    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="SCIM"'
    assert json.loads(content)["status"] == "401"


def test_browser_pages_keep_the_full_stack(scim):
    status, names, headers, _ = _call("GET", "/signin/")

    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert "set-cookie" in names


def test_browser_post_without_csrf_token_is_refused(scim):
    status, *_ = _call(
        "POST",
        "/signin/",
        body=b"email=admin%40acme.example",
        headers={"CONTENT_TYPE": "application/x-www-form-urlencoded"},
    )

    assert status == 403
