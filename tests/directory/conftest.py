import json

import pytest

from directory.services import directory_create


class ScimClient:
    """Django's test client speaking SCIM to one directory with its token."""

    def __init__(self, client, directory, token, version="v2"):
        self.client = client
        self.directory = directory
        self.token = token
        self.base = f"/scim/{version}/{directory.public_id}"

    def request(self, method, path, body=None, token=None, **params):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token or self.token}"}
        url = self.base + path
        call = getattr(self.client, method.lower())
        if body is None:
            return call(url, params or None, **headers)
        return call(
            url,
            json.dumps(body),
            content_type="application/scim+json",
            **headers,
        )

    def get(self, path, **params):
        return self.request("GET", path, **params)

    def post(self, path, body, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path, body, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path, body, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def scim_directory(entitled):
    directory, token = directory_create(
        organization=entitled, provider="okta-scim-v2", actor="operator"
    )
    return directory, token


@pytest.fixture
def scim(client, scim_directory):
    directory, token = scim_directory
    return ScimClient(client, directory, token)


@pytest.fixture
def scim_v1(client, entitled):
    directory, token = directory_create(
        organization=entitled, provider="okta-scim-v1.1", actor="operator"
    )
    return ScimClient(client, directory, token, version="v1")


def user_body(user_name="ada@acme.example", **extra):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "active": True,
    }
    body.update(extra)
    return body
