"""Bearer-token authentication of SCIM requests, one directory per token.

The directory comes from the URL and the token must be that directory's: a
token of directory A presented on directory B's URL is refused exactly like
a wrong token, so the answer says nothing about whether B exists.
"""

import functools
import hmac
import logging
import uuid

from django.db import connection

from billing.models import Subscription
from directory.models import Directory
from directory.services import token_digest
from progression.models import Organization
from progression.prepared import prepared_cursor

security_logger = logging.getLogger("progression.security")

# The directory's row, its organisation's and its subscription's (if any).
_JOINS = (
    (Directory, "d", ""),
    (Organization, "o", 'JOIN {table} o ON o."id" = d."organization_id"'),
    (Subscription, "s", 'LEFT JOIN {table} s ON s."organization_id" = o."id"'),
)


def authenticate(request, public_id: uuid.UUID) -> Directory | None:
    """Return the directory whose URL and token both match, or None.

    One query brings the directory with its organisation and the
    organisation's subscription, which the entitlement check reads next.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    directory = _directory(public_id)
    # Compare even when there is no directory, so timing does not tell.
    expected = directory.token_hash if directory is not None else "0" * 64
    supplied = token_digest(token) if scheme.lower() == "bearer" and token else ""
    if not supplied or not hmac.compare_digest(expected, supplied):
        security_logger.warning(
            "scim token refused",
            extra={"directory_id": directory.pk if directory else None},
        )
        return None
    return directory


@functools.cache
def _lookup() -> tuple[str, list]:
    """The lookup's SQL and, per model, its fields and their converters.

    Built once per process: the lookup precedes every SCIM request, and
    compiling the equivalent queryset costs more than running it.
    """
    quote = connection.ops.quote_name
    columns, joins, models = [], [], []
    for model, alias, join in _JOINS:
        fields = []
        for field in model._meta.concrete_fields:
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(
                column
            ) + column.get_db_converters(connection)
            fields.append((field, column, converters))
            columns.append(f"{alias}.{quote(field.column)}")
        joins.append(join.format(table=quote(model._meta.db_table)))
        models.append((model, fields))
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(Directory._meta.db_table)} d "  # noqa: S608
        f'{" ".join(joins)} WHERE d."public_id" = %s LIMIT 1'
    )
    return sql, models


def _directory(public_id: uuid.UUID) -> Directory | None:
    sql, models = _lookup()
    with prepared_cursor() as cursor:
        cursor.execute(sql, [public_id])
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model, fields in models:
        values = list(row[start : start + len(fields)])
        start += len(fields)
        for index, (_field, column, converters) in enumerate(fields):
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        names = [field.attname for field, _, _ in fields]
        present = values[0] is not None
        instances.append(
            model.from_db(connection.alias, names, values) if present else None
        )
    directory, organization, subscription = instances
    directory.organization = organization
    # As select_related would: `organization.subscription` reads the loaded
    # row, and raises DoesNotExist without a query when there is none.
    Organization.subscription.related.set_cached_value(organization, subscription)
    return directory
