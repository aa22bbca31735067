"""Google Workspace: the Admin SDK Directory API, limited to chosen groups.

The admin picks groups before the directory is activated; a sync reads the
members of those groups (nested groups flattened) into a temporary file and
then every user page by page, keeping only the members. A suspended or
archived user is out of scope (inactive). Access is either an
administrator's OAuth consent (a refresh token) or a service account with
domain-wide delegation, which signs a JWT as an administrator it may act
for. Access tokens last an hour; a token refused in the middle of a sync is
replaced once and the call repeated.

The Directory API and the token endpoint have separate hosts at Google; a
directory's overridden base URL serves both (the token endpoint at `/token`),
so a sandbox or a test server can stand in for the two.
"""

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from directory.connectors.base import Connector, pick, text
from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorError,
    ConnectorResponseError,
)
from directory.connectors.http import parse_json
from directory.provisioning import Record

CREDENTIALS_KIND = (
    "Google Workspace credentials are either a service account key with an "
    "admin_email, or client_id, client_secret and refresh_token."
)
SERVICE_ACCOUNT_INVALID = (
    "The service account key must be the JSON key file Google issued, with "
    "client_email and private_key."
)
ADMIN_EMAIL_INVALID = "admin_email must be the email of a Google Workspace admin."
GROUPS_REQUIRED = "Choose at least one group to sync before activating Google."
GROUPS_INVALID = "The groups to sync must be a list of group ids or emails."
GROUP_GONE = (
    "A group chosen for syncing no longer exists in Google Workspace (%s). "
    "Choose the groups again; nobody was archived."
)
GRANT_REFUSED = (
    "Google refused to issue an access token (%s). Check the consent, or the "
    "domain-wide delegation of the service account and its scopes."
)
PAGE_MALFORMED = "Google's %s page is not what the Directory API returns."
PAGE_REPEATED = "Google returned the same page token twice."
USER_WITHOUT_ID = "Google lists a user without an id."

GOOGLE_OAUTH_ENDPOINT = "https://oauth2.googleapis.com/token"
SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
)
API = "/admin/directory/v1"
USERS_PER_PAGE = 500
MEMBERS_PER_PAGE = 200
GROUPS_PER_PAGE = 200
ATTRIBUTES = (
    "id",
    "primaryEmail",
    "name",
    "suspended",
    "archived",
    "orgUnitPath",
    "organizations",
    "relations",
)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
THROTTLE_REASONS = frozenset(
    {"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"}
)


@dataclass(frozen=True)
class Group:
    """A group as the picker shows it."""

    id: str
    email: str
    name: str
    members_count: int


class GoogleWorkspaceConnector(Connector):
    provider = "google-workspace"
    label = "Google Workspace"
    default_base_url = "https://admin.googleapis.com"

    def __init__(self, credentials, base_url=None, options=None, **kwargs):
        super().__init__(credentials, base_url, options, **kwargs)
        self.token_url = f"{self.base_url}/token" if base_url else GOOGLE_OAUTH_ENDPOINT
        self._access_token = ""
        self._expires_at = 0.0

    def check_credentials(self) -> None:
        account = self.credentials.get("service_account")
        if account is not None:
            self._check_service_account(account)
            return
        fields = ("client_id", "client_secret", "refresh_token")
        if not all(
            isinstance(self.credentials.get(f), str) and self.credentials[f].strip()
            for f in fields
        ):
            raise ConnectorConfigError(CREDENTIALS_KIND, code="credentials_kind")

    def _check_service_account(self, account: Any) -> None:
        if not isinstance(account, dict) or not all(
            isinstance(account.get(f), str) and account[f].strip()
            for f in ("client_email", "private_key")
        ):
            raise ConnectorConfigError(
                SERVICE_ACCOUNT_INVALID, code="service_account_invalid"
            )
        try:
            self._signing_key = load_pem_private_key(
                account["private_key"].encode(), password=None
            )
        except (ValueError, TypeError) as exc:
            raise ConnectorConfigError(
                SERVICE_ACCOUNT_INVALID, code="service_account_invalid"
            ) from exc
        admin = self.credentials.get("admin_email")
        if not isinstance(admin, str) or "@" not in admin:
            raise ConnectorConfigError(ADMIN_EMAIL_INVALID, code="admin_email_invalid")

    def throttled(self, response) -> bool:
        if response.status != 403:
            return False
        try:
            errors = parse_json(response)["error"]["errors"]
            return any(e.get("reason") in THROTTLE_REASONS for e in errors)
        except (ConnectorError, KeyError, TypeError, AttributeError):
            return False

    # What the portal and the sync call.

    def test(self) -> None:
        self._get(f"{API}/users", {"customer": "my_customer", "maxResults": 1})
        self._get(f"{API}/groups", {"customer": "my_customer", "maxResults": 1})

    def groups(self) -> list[Group]:
        """Every group of the customer, for the admin to choose from."""
        found = []
        for item in self._pages(
            f"{API}/groups",
            {"customer": "my_customer", "maxResults": GROUPS_PER_PAGE},
            "groups",
        ):
            found.append(
                Group(
                    id=text(item.get("id")),
                    email=text(item.get("email")),
                    name=text(item.get("name")),
                    members_count=int(item.get("directMembersCount") or 0),
                )
            )
        return found

    def fetch(self) -> Iterator[Record]:
        chosen = self._chosen_groups()
        with Memberships() as memberships:
            self._members(chosen, memberships)
            page: list[dict] = []
            for user in self._pages(
                f"{API}/users",
                {
                    "customer": "my_customer",
                    "maxResults": USERS_PER_PAGE,
                    "projection": "full",
                },
                "users",
            ):
                if not text(user.get("id")):
                    raise ConnectorResponseError(
                        USER_WITHOUT_ID, code="user_without_id"
                    )
                page.append(user)
                if len(page) >= USERS_PER_PAGE:
                    yield from _members_only(page, memberships, chosen)
                    page = []
            yield from _members_only(page, memberships, chosen)

    # Reading.

    def _chosen_groups(self) -> list[str]:
        chosen = self.options.get("groups")
        if chosen is None or chosen == []:
            raise ConnectorConfigError(GROUPS_REQUIRED, code="groups_required")
        if not isinstance(chosen, list) or not all(
            isinstance(g, str) and g.strip() for g in chosen
        ):
            raise ConnectorConfigError(GROUPS_INVALID, code="groups_invalid")
        return [g.strip() for g in chosen]

    def _members(self, chosen: list[str], memberships: "Memberships") -> None:
        """Note each member of the chosen groups (nested groups flattened)."""
        for index, key in enumerate(chosen):
            path = f"{API}/groups/{quote(key, safe='@')}/members"
            params = {
                "maxResults": MEMBERS_PER_PAGE,
                "includeDerivedMembership": "true",
            }
            try:
                ids = (
                    text(member.get("id"))
                    for member in self._pages(path, params, "members")
                    if member.get("type") == "USER" and text(member.get("id"))
                )
                memberships.add(ids, index)
            except ConnectorResponseError as exc:
                # A deleted group must not read as "everyone left it".
                if exc.status == 404:
                    raise ConnectorConfigError(
                        GROUP_GONE % key, code="group_missing"
                    ) from exc
                raise

    def _pages(self, path: str, params: dict, key: str) -> Iterator[dict]:
        page_token = None
        seen = set()
        while True:
            query = dict(params)
            if page_token:
                query["pageToken"] = page_token
            body = self._get(path, query)
            if not isinstance(body, dict) or not isinstance(body.get(key, []), list):
                raise ConnectorResponseError(
                    PAGE_MALFORMED % key, code="page_malformed"
                )
            for item in body.get(key, []):
                if isinstance(item, dict):
                    yield item
            page_token = text(body.get("nextPageToken"))
            if not page_token:
                return
            if page_token in seen:
                raise ConnectorResponseError(PAGE_REPEATED, code="page_repeated")
            seen.add(page_token)

    def _get(self, path: str, params: dict) -> Any:
        try:
            return self.http.json(
                "GET", path, params=params, headers=self._headers(fresh=False)
            )
        except ConnectorAuthError as exc:
            if exc.status != 401:
                raise
        return self.http.json(
            "GET", path, params=params, headers=self._headers(fresh=True)
        )

    # Tokens.

    def _headers(self, *, fresh: bool) -> dict:
        if fresh or not self._access_token or time.time() >= self._expires_at:
            self._token()
        return {"Authorization": f"Bearer {self._access_token}"}

    def _token(self) -> None:
        if "service_account" in self.credentials:
            data = {"grant_type": JWT_BEARER, "assertion": self._assertion()}
        else:
            data = {
                "grant_type": "refresh_token",
                "client_id": self.credentials["client_id"].strip(),
                "client_secret": self.credentials["client_secret"].strip(),
                "refresh_token": self.credentials["refresh_token"].strip(),
            }
        try:
            response = self.http.request(
                "POST", self.token_url, data=data, repeatable=False
            )
        except (ConnectorAuthError, ConnectorResponseError) as exc:
            if isinstance(exc, ConnectorResponseError) and exc.status != 400:
                raise
            raise ConnectorAuthError(
                GRANT_REFUSED % f"HTTP {exc.status}",
                code="token_refused",
                status=exc.status,
            ) from exc
        body = parse_json(response)
        token = text(body.get("access_token")) if isinstance(body, dict) else ""
        if not token:
            raise ConnectorAuthError(
                GRANT_REFUSED % "no access token", code="token_refused"
            )
        self._access_token = token
        lifetime = body.get("expires_in")
        lifetime = lifetime if isinstance(lifetime, int) else 3600
        # Renew a minute early rather than have a page refused.
        self._expires_at = time.time() + max(0, lifetime - 60)

    def _assertion(self) -> str:
        account = self.credentials["service_account"]
        now = int(time.time())
        claims = {
            "iss": account["client_email"].strip(),
            "sub": self.credentials["admin_email"].strip(),
            "scope": " ".join(SCOPES),
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        headers = {}
        if isinstance(account.get("private_key_id"), str):
            headers["kid"] = account["private_key_id"]
        return jwt.encode(claims, self._signing_key, algorithm="RS256", headers=headers)


class Memberships:
    """Which chosen groups each user is in, kept in a temporary SQLite file.

    The chosen groups may hold most of a large company; their member ids are
    written to disk as they are read, and looked up a page of users at a
    time, so a fetch holds a page, not the membership of every group.
    """

    def __init__(self):
        # An empty name opens a private database on disk, deleted on close.
        self._db = sqlite3.connect("")
        self._db.execute(
            "CREATE TABLE member (user_id TEXT, grp INTEGER, "
            "PRIMARY KEY (user_id, grp)) WITHOUT ROWID"
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._db.close()

    def add(self, user_ids: Iterable[str], group: int) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO member VALUES (?, ?)",
            ((user_id, group) for user_id in user_ids),
        )

    def groups_of(self, user_ids: list[str]) -> dict[str, list[int]]:
        """The groups of each of these users that is in any; others are left out."""
        found: dict[str, list[int]] = {}
        marks = ",".join("?" * len(user_ids))
        rows = self._db.execute(
            f"SELECT user_id, grp FROM member WHERE user_id IN ({marks}) "  # noqa: S608 - placeholders only
            "ORDER BY user_id, grp",
            user_ids,
        )
        for user_id, group in rows:
            found.setdefault(user_id, []).append(group)
        return found


def _members_only(
    users: list[dict], memberships: Memberships, chosen: list[str]
) -> Iterator[Record]:
    """Records of the users on a page who are in a chosen group, in page order."""
    if not users:
        return
    groups = memberships.groups_of([text(user.get("id")) for user in users])
    for user in users:
        indexes = groups.get(text(user.get("id")))
        if indexes:
            yield _record(user, [chosen[i] for i in indexes])


def _record(user: dict, groups: list[str]) -> Record:
    user_id = text(user.get("id"))
    name = user.get("name") if isinstance(user.get("name"), dict) else {}
    organization = _primary(user.get("organizations"))
    manager = next(
        (
            r
            for r in user.get("relations") or []
            if isinstance(r, dict) and r.get("type") == "manager"
        ),
        {},
    )
    return Record(
        user_name=user_id,
        external_id=user_id,
        email=text(user.get("primaryEmail")),
        first_name=text(name.get("givenName")),
        last_name=text(name.get("familyName")),
        active=user.get("suspended") is not True and user.get("archived") is not True,
        manager_ref=text(manager.get("value")),
        department=text(organization.get("department")),
        title=text(organization.get("title")),
        attributes={**pick(user, ATTRIBUTES), "groups": groups},
    )


def _primary(items: Any) -> dict:
    items = [i for i in items or [] if isinstance(i, dict)]
    return next((i for i in items if i.get("primary")), items[0] if items else {})
