"""Bearer-token authentication of SCIM requests, one directory per token.

The directory comes from the URL and the token must be that directory's: a
token of directory A presented on directory B's URL is refused exactly like
a wrong token, so the answer says nothing about whether B exists.

A provisioning burst is thousands of creates on one directory, and reading
the directory again for each costs a create a good part of its time. So each
process keeps the directories it authenticated lately, with the versions
(`xmin` and `ctid`) of the rows the answer rests on: the directory, its
organisation, its subscription and the organisation's bolt-on purchases. A
create may use a kept directory when the token matches it: its one statement
then starts with a check that those rows are unchanged and writes nothing
otherwise (`ChainCheckFailed`), and the request is answered again after a
fresh read. Rotating the token, deactivating the directory or any change to
the plan or bolt-ons thus takes effect on the very next create, in every
process. A kept directory is forgotten after `RECENT_SECONDS`, and before any
instant at which the plan's terms or a bolt-on could change the entitlement
by themselves. Every other request reads the directory afresh.
"""

import dataclasses
import hmac
import logging
import threading
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from billing.entitlements import Entitlement, entitlement
from billing.models import BoltOnPurchase, Subscription
from billing.terms import state_at
from directory.models import Directory
from directory.services import token_digest
from progression.models import Organization
from progression.queries import Joined, RowQuery
from progression.rows import ChainCheck

security_logger = logging.getLogger("progression.security")

RECENT_SECONDS = 30
RECENT_MAX = 512

_BOLT_ONS = BoltOnPurchase._meta.db_table


def _version(alias: str) -> str:
    """The version of a row: it changes whenever the row does, even within the
    transaction that wrote it (a new tuple, a new `ctid`)."""
    return f"({alias}.xmin::text || '/' || {alias}.ctid::text)"


# Changes whenever a bolt-on purchase of the organisation is added, changed
# or removed. (Table names in these statements come from the models only.)
_BOLT_ON_VERSIONS = (
    f"(SELECT coalesce(string_agg({_version('b')}, ',' ORDER BY b.id), '') "  # noqa: S608
    f'FROM "{_BOLT_ONS}" b WHERE b."organization_id" = o."id")'
)
# The next instant at which a bolt-on starts or ends.
_BOLT_ON_NEXT = (
    f'(SELECT min(v.t) FROM "{_BOLT_ONS}" b '  # noqa: S608
    'CROSS JOIN LATERAL (VALUES (b."term_start"), (b."term_end")) AS v(t) '
    'WHERE b."organization_id" = o."id" AND v.t > now())'
)

# The directory's row, its organisation's and its subscription's (if any),
# with the versions a later check compares.
_JOINED = (
    Joined(Directory, "d"),
    Joined(Organization, "o", 'JOIN {table} o ON o."id" = d."organization_id"'),
    Joined(Subscription, "s", 'LEFT JOIN {table} s ON s."organization_id" = o."id"'),
)
_DIRECTORY = RowQuery(
    _JOINED,
    'd."public_id" = %s',
    prepared=True,
    extra=(
        _version("d"),
        _version("o"),
        _version("s"),
        _BOLT_ON_VERSIONS,
        _BOLT_ON_NEXT,
    ),
)
# Rows have versions on PostgreSQL only; elsewhere (SQLite, the embedded
# default) nothing is kept and the rows alone are read.
_DIRECTORY_ROWS = RowQuery(_JOINED, 'd."public_id" = %s')
_PUBLIC_ID = Directory._meta.get_field("public_id")
_UNCHANGED = (
    f'SELECT d."id" AS id FROM "{Directory._meta.db_table}" d '  # noqa: S608
    f'JOIN "{Organization._meta.db_table}" o ON o."id" = d."organization_id" '
    f'LEFT JOIN "{Subscription._meta.db_table}" s '
    'ON s."organization_id" = o."id"'
    f' WHERE d."id" = %s AND {_version("d")} = %s AND {_version("o")} = %s'
    f" AND {_version('s')} IS NOT DISTINCT FROM %s"
    f" AND {_BOLT_ON_VERSIONS} = %s"
)


@dataclasses.dataclass(frozen=True)
class _Recent:
    directory: Directory
    versions: tuple[str | None, ...]
    until: datetime
    # Holds as long as the versions do, until `until`.
    entitlement: Entitlement

    @property
    def check(self) -> ChainCheck:
        return ChainCheck(_UNCHANGED, (self.directory.pk, *self.versions))


# By the directory's public id, as text.
_recent: OrderedDict[str, _Recent] = OrderedDict()
_recent_lock = threading.Lock()


def authenticate(request, public_id: uuid.UUID) -> tuple[Directory, Entitlement] | None:
    """The directory whose URL and token both match, with its organisation's
    entitlement as of now; None when they do not match.

    One query brings the directory with its organisation and the
    organisation's subscription, which the entitlement rests on. A refused
    token costs that query alone: nothing is decided or kept for it.
    """
    found = _directory(public_id)
    directory = found[0] if found is not None else None
    # Compare even when there is no directory, so timing does not tell.
    expected = directory.token_hash if directory is not None else "0" * 64
    if not _token_matches(request, expected):
        security_logger.warning(
            "scim token refused",
            extra={"directory_id": directory.pk if directory else None},
        )
        return None
    directory, subscription, versions = found
    now = timezone.now()
    answer = entitlement(directory.organization_id, at=now, subscription=subscription)
    if versions is not None:
        *versions, bolt_on_next = versions
        _keep(
            public_id,
            directory,
            subscription,
            tuple(versions),
            bolt_on_next,
            now,
            answer,
        )
    return directory, answer


def authenticate_recent(
    request, public_id: uuid.UUID
) -> tuple[Directory, ChainCheck, Entitlement] | None:
    """A directory this process authenticated lately, the check that it is
    unchanged and its organisation's entitlement as of then, when the
    request's token is its token; None otherwise, and the caller
    authenticates as usual.

    The directory is shared by the requests using it: read it, never change it.
    """
    with _recent_lock:
        recent = _recent.get(str(public_id))
    if recent is None or timezone.now() >= recent.until:
        return None
    if not _token_matches(request, recent.directory.token_hash):
        # A wrong token takes the usual path, so it costs what it always did.
        return None
    return recent.directory, recent.check, recent.entitlement


def forget_recent(public_id: uuid.UUID) -> None:
    with _recent_lock:
        _recent.pop(str(public_id), None)


def _token_matches(request, expected: str) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    supplied = token_digest(token) if scheme.lower() == "bearer" and token else ""
    return bool(supplied) and hmac.compare_digest(expected, supplied)


def _directory(
    public_id: uuid.UUID,
) -> tuple[Directory, Subscription | None, list | None] | None:
    """The directory with its organisation, its subscription and, on
    PostgreSQL, the versions a kept directory is checked against."""
    # Compiled once per process: the lookup precedes every SCIM request, and
    # compiling the equivalent queryset costs more than running it.
    keeps = connection.vendor == "postgresql"
    # As the database stores it (SQLite keeps a UUID as 32 hexadecimal digits).
    param = _PUBLIC_ID.get_db_prep_value(public_id, connection)
    found = (_DIRECTORY if keeps else _DIRECTORY_ROWS).one([param])
    if found is None:
        forget_recent(public_id)
        return None
    directory, organization, subscription, *versions = found
    directory.organization = organization
    # As select_related would: `organization.subscription` reads the loaded
    # row, and raises DoesNotExist without a query when there is none.
    Organization.subscription.related.set_cached_value(organization, subscription)
    return directory, subscription, versions if keeps else None


def _keep(
    public_id, directory, subscription, versions, bolt_on_next, now, answer
) -> None:
    """Keep `directory`, read at `now` with entitlement `answer`, until the
    first instant at which that answer may change by itself."""
    instants = [now + timedelta(seconds=RECENT_SECONDS), bolt_on_next]
    if subscription is not None:
        state = state_at(subscription, now)
        instants += [
            subscription.term_start,
            subscription.scheduled_at,
            subscription.included_until,
            state.term_end if state is not None else None,
        ]
    until = min(instant for instant in instants if instant and instant > now)
    key = str(public_id)
    with _recent_lock:
        _recent[key] = _Recent(directory, versions, until, answer)
        _recent.move_to_end(key)
        while len(_recent) > RECENT_MAX:
            _recent.popitem(last=False)
