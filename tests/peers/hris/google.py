"""A fake Google Workspace: the token endpoint and the Directory API.

Behaves as the documented services do:

- `POST /token` grants an access token for a refresh token (OAuth consent)
  or for a JWT assertion signed by a registered service account (domain-wide
  delegation): the signature, audience and expiry are checked, `sub` must be
  an admin of the customer, and the scopes must be the ones delegated;
  refusals are `invalid_grant` (400) and `unauthorized_client` (401).
- `users`, `groups` and `groups/{groupKey}/members` check the bearer token
  (401 otherwise), require `customer=my_customer` where Google does, clamp
  `maxResults` (users 500, groups and members 200), and page with opaque
  `pageToken`s (a forged one answers 400). `includeDerivedMembership=true`
  flattens nested groups; a group key is its id or email; an unknown group
  answers 404.
- Knobs: expire every live token after some number of calls; hide fields.
"""

import base64
import itertools
import secrets

import jwt

from tests.peers.hris.server import FakeProvider, FakeRequest, FakeResponse

SCOPES = {
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
}
API = "/admin/directory/v1"
LIMITS = {"users": (100, 500), "groups": (200, 200), "members": (200, 200)}


def user(user_id, given_name, family_name, *, email="", **fields):
    """A user resource as `projection=full` returns it."""
    record = {
        "kind": "admin#directory#user",
        "id": str(user_id),
        "primaryEmail": email or f"{given_name.lower()}@acme.example",
        "name": {
            "givenName": given_name,
            "familyName": family_name,
            "fullName": f"{given_name} {family_name}",
        },
        "isAdmin": False,
        "suspended": False,
        "archived": False,
        "orgUnitPath": "/",
    }
    record.update(fields)
    return record


def error(code, message, reason):
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


RATE_LIMITED = error(403, "Quota exceeded for quota metric", "userRateLimitExceeded")


class FakeGoogle(FakeProvider):
    def __init__(self):
        super().__init__()
        self.users: list[dict] = []
        self.groups: list[dict] = []
        # group id -> [("USER" | "GROUP", id)]
        self.members: dict[str, list[tuple[str, str]]] = {}
        self.admins = {"admin@acme.example"}
        self.oauth_clients: dict[str, str] = {}
        self.refresh_tokens: set[str] = set()
        # service account email -> (public key, delegated scopes)
        self.service_accounts: dict[str, tuple[object, set[str]]] = {}
        self.access_tokens: dict[str, int | None] = {}
        # Calls a newly issued access token answers (None: until revoked).
        self.new_token_calls: int | None = None
        self.tokens_issued = 0
        self._secret = secrets.token_hex(8)
        self._serial = itertools.count(1)
        # Listings by snapshot id: a page token pages through the listing as
        # it was when its first page was served.
        self._listings: dict[int, list] = {}

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    # Arranging the customer.

    def add_users(self, *users):
        self.users.extend(users)

    def get_user(self, user_id) -> dict:
        return next(u for u in self.users if u["id"] == str(user_id))

    def add_group(self, group_id, email, name, members=()):
        self.groups.append(
            {
                "kind": "admin#directory#group",
                "id": group_id,
                "email": email,
                "name": name,
            }
        )
        self.members[group_id] = list(members)
        return group_id

    def remove_group(self, group_id):
        self.groups = [g for g in self.groups if g["id"] != group_id]
        del self.members[group_id]

    def oauth_client(
        self,
        client_id="google-client",
        client_secret="google-secret",  # noqa: S107 - the peer's own test secret
    ):
        self.oauth_clients[client_id] = client_secret
        token = f"refresh-{next(self._serial)}"
        self.refresh_tokens.add(token)
        return {
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": token,
        }

    def service_account(self, client_email, public_key, scopes=SCOPES):
        self.service_accounts[client_email] = (public_key, set(scopes))

    def expire_tokens_after(self, calls: int):
        for token in self.access_tokens:
            self.access_tokens[token] = calls

    def is_listing(self, request):
        return request.path.startswith(API)

    # Answering.

    def route(self, request: FakeRequest) -> FakeResponse:
        if request.path == "/token" and request.method == "POST":
            return self._token(request.form())
        if not self._authorised(request):
            return FakeResponse(401, error(401, "Invalid Credentials", "authError"))
        if request.path == f"{API}/users":
            if request.query.get("customer") != "my_customer":
                return FakeResponse(400, error(400, "Bad Request", "badRequest"))
            return self._page(
                request, "users", lambda: list(self.users), shape=self.visible
            )
        if request.path == f"{API}/groups":
            if request.query.get("customer") != "my_customer":
                return FakeResponse(400, error(400, "Bad Request", "badRequest"))
            return self._page(
                request,
                "groups",
                lambda: list(self.groups),
                shape=lambda g: {
                    **g,
                    "directMembersCount": str(len(self.members[g["id"]])),
                },
            )
        if request.path.startswith(f"{API}/groups/") and request.path.endswith(
            "/members"
        ):
            key = request.path[len(f"{API}/groups/") : -len("/members")]
            group = next((g for g in self.groups if key in (g["id"], g["email"])), None)
            if group is None:
                return FakeResponse(
                    404, error(404, "Resource Not Found: groupKey", "notFound")
                )
            derived = request.query.get("includeDerivedMembership") == "true"
            return self._page(
                request, "members", lambda: self._members_of(group, derived)
            )
        return FakeResponse(404, error(404, "Not Found", "notFound"))

    def _authorised(self, request) -> bool:
        token = request.bearer()
        if token not in self.access_tokens:
            return False
        left = self.access_tokens[token]
        if left is not None:
            if left <= 0:
                return False
            self.access_tokens[token] = left - 1
        return True

    def _token(self, form) -> FakeResponse:
        grant = form.get("grant_type")
        if grant == "refresh_token":
            secret = self.oauth_clients.get(form.get("client_id", ""))
            if secret is None or secret != form.get("client_secret"):
                return FakeResponse(401, {"error": "invalid_client"})
            if form.get("refresh_token") not in self.refresh_tokens:
                return FakeResponse(
                    400, {"error": "invalid_grant", "error_description": "Bad Request"}
                )
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            refusal = self._check_assertion(form.get("assertion", ""))
            if refusal is not None:
                return refusal
        else:
            return FakeResponse(400, {"error": "unsupported_grant_type"})
        token = f"ya29.{self._secret}-{next(self._serial)}"
        self.access_tokens[token] = self.new_token_calls
        self.tokens_issued += 1
        return FakeResponse(
            200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _check_assertion(self, assertion) -> FakeResponse | None:
        invalid = FakeResponse(
            400, {"error": "invalid_grant", "error_description": "Invalid JWT"}
        )
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            public_key, scopes = self.service_accounts[unverified["iss"]]
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256"],
                audience=self.token_url,
                options={"require": ["iss", "sub", "aud", "iat", "exp", "scope"]},
            )
        except (jwt.PyJWTError, KeyError):
            return invalid
        if claims["sub"] not in self.admins:
            return invalid
        if not set(claims["scope"].split()) <= scopes:
            return FakeResponse(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve "
                    "access tokens using this method, or client not authorized "
                    "for any of the scopes requested.",
                },
            )
        return None

    def _members_of(self, group, derived) -> list[dict]:
        emails = {u["id"]: u["primaryEmail"] for u in self.users}
        emails.update({g["id"]: g["email"] for g in self.groups})
        found, seen = [], set()
        stack = list(reversed(self.members[group["id"]]))
        while stack:
            kind, member_id = stack.pop()
            if kind == "GROUP" and derived:
                stack.extend(reversed(self.members.get(member_id, [])))
                continue
            if (kind, member_id) in seen:
                continue
            seen.add((kind, member_id))
            email = emails.get(member_id, "")
            found.append(
                {
                    "kind": "admin#directory#member",
                    "id": member_id,
                    "email": email,
                    "role": "MEMBER",
                    "type": kind,
                    "status": "ACTIVE",
                }
            )
        return found

    def _page(self, request, key, listing, shape=lambda item: item):
        """One page of a listing; later pages read the first page's snapshot."""
        default, most = LIMITS[key]
        try:
            size = int(request.query.get("maxResults", default))
        except ValueError:
            return FakeResponse(400, error(400, "Invalid maxResults", "invalid"))
        size = min(most, max(1, size))
        if "pageToken" in request.query:
            found = self._read_page_token(request.query["pageToken"], key)
            if found is None:
                return FakeResponse(400, error(400, "Invalid page token", "invalid"))
            snapshot, offset = found
        else:
            snapshot, offset = next(self._serial), 0
            self._listings[snapshot] = listing()
        items = self._listings[snapshot]
        body = {"kind": f"admin#directory#{key}", "etag": '"e"'}
        if items[offset : offset + size]:
            body[key] = [shape(item) for item in items[offset : offset + size]]
        if offset + size < len(items):
            body["nextPageToken"] = self._page_token(key, snapshot, offset + size)
        return FakeResponse(200, body)

    def _page_token(self, key, snapshot, offset) -> str:
        raw = f"{key}:{snapshot}:{offset}:{self._secret}".encode()
        return base64.urlsafe_b64encode(raw).decode()

    def _read_page_token(self, token, key) -> tuple[int, int] | None:
        try:
            raw = base64.urlsafe_b64decode(token).decode()
            kind, snapshot, offset, secret = raw.split(":")
            snapshot, offset = int(snapshot), int(offset)
        except ValueError:
            return None
        if (kind, secret) != (key, self._secret) or snapshot not in self._listings:
            return None
        return snapshot, offset
