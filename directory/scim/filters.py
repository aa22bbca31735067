"""SCIM filters (RFC 7644 §3.4.2.2) turned into SQL conditions.

scim2-filter-parser gives the syntax tree; this module maps each attribute to
a column of the directory's own tables, so filtering, counting and paging all
happen in one SQL query whose tenant predicate (`directory_id = ...`) is added
by the caller. An attribute this server cannot filter on is an
`invalidFilter` error, never a silent "match everything".
"""

import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils.dateparse import parse_datetime
from scim2_filter_parser import ast

from directory.models import DirectoryMembership
from directory.scim.errors import ScimError
from directory.scim.paths import parse_filter
from directory.scim.schemas import ENTERPRISE

FILTER_ATTRIBUTE_UNSUPPORTED = "Filtering on {name!r} is not supported."
FILTER_VALUE_INVALID = "The filter value for {name!r} is not valid."


@dataclass(frozen=True)
class Column:
    field: str
    kind: str = "text"  # text, ci-text, uuid, bool, datetime, member
    nullable: bool = False


USER_COLUMNS = {
    "username": Column("user_name", "ci-text"),
    "externalid": Column("external_id"),
    "id": Column("scim_id", "uuid"),
    "emails": Column("email", "ci-text"),
    "emails.value": Column("email", "ci-text"),
    "name.givenname": Column("first_name", "ci-text"),
    "name.familyname": Column("last_name", "ci-text"),
    "active": Column("active", "bool"),
    "title": Column("title", "ci-text"),
    "displayname": Column("attributes__displayName", "ci-text", nullable=True),
    f"{ENTERPRISE.lower()}:department": Column("department", "ci-text"),
    f"{ENTERPRISE.lower()}:manager": Column("manager_ref"),
    f"{ENTERPRISE.lower()}:manager.value": Column("manager_ref"),
    "meta.created": Column("created_at", "datetime"),
    "meta.lastmodified": Column("updated_at", "datetime"),
}

GROUP_COLUMNS = {
    "displayname": Column("display_name", "ci-text"),
    "externalid": Column("external_id"),
    "id": Column("scim_id", "uuid"),
    "members": Column("", "member"),
    "members.value": Column("", "member"),
    "meta.created": Column("created_at", "datetime"),
    "meta.lastmodified": Column("updated_at", "datetime"),
}

_TEXT_LOOKUPS = {
    "eq": "exact",
    "co": "contains",
    "sw": "startswith",
    "ew": "endswith",
    "gt": "gt",
    "ge": "gte",
    "lt": "lt",
    "le": "lte",
}


def filter_q(text: str, columns: dict[str, Column]) -> Q:
    """Translate a filter string into a Q over one of the column maps."""
    return _node(parse_filter(text), columns)


def _node(node, columns) -> Q:
    if isinstance(node, ast.Filter):
        if node.namespace is not None:
            # A bare value path, `emails[value eq "x"]`: the inner filter
            # applies to the namespace's sub-attributes.
            q = _namespaced(node.expr, node.namespace, columns)
        else:
            q = _node(node.expr, columns)
        return ~q if node.negated else q
    if isinstance(node, ast.LogExpr):
        left, right = _node(node.expr1, columns), _node(node.expr2, columns)
        return left & right if node.op.lower() == "and" else left | right
    if isinstance(node, ast.AttrExpr):
        return _expression(node, _attribute_name(node.attr_path), columns)
    raise ScimError(400, FILTER_ATTRIBUTE_UNSUPPORTED.format(name="?"), "invalidFilter")


def _namespaced(node, namespace: ast.AttrPath, columns) -> Q:
    if isinstance(node, ast.Filter):
        q = _namespaced(node.expr, namespace, columns)
        return ~q if node.negated else q
    if isinstance(node, ast.LogExpr):
        left = _namespaced(node.expr1, namespace, columns)
        right = _namespaced(node.expr2, namespace, columns)
        return left & right if node.op.lower() == "and" else left | right
    if isinstance(node, ast.AttrExpr):
        sub = node.attr_path.attr_name
        name = f"{namespace.attr_name}.{sub}".lower()
        if namespace.uri:
            name = f"{namespace.uri.lower()}:{name}"
        if sub.lower() in {"type", "primary", "display"}:
            # Only one address per person is stored: the one that counts. A
            # condition on its type or primary flag does not narrow further.
            return Q()
        return _expression(node, name, columns)
    raise ScimError(400, FILTER_ATTRIBUTE_UNSUPPORTED.format(name="?"), "invalidFilter")


def _attribute_name(path: ast.AttrPath) -> str:
    if isinstance(path.attr_name, ast.Filter):
        # `emails[type eq "work"].value eq "x"`: the parser moves `.value`
        # onto the namespace; the bracketed condition is on the same address.
        namespace = path.attr_name.namespace
        name = namespace.attr_name
        if namespace.sub_attr is not None:
            name = f"{name}.{namespace.sub_attr.value}"
        if namespace.uri:
            name = f"{namespace.uri}:{name}"
        return name.lower()
    name = path.attr_name
    if path.sub_attr is not None:
        name = f"{name}.{path.sub_attr.value}"
    if path.uri:
        name = f"{path.uri}:{name}"
    return name.lower()


def _expression(node: ast.AttrExpr, name: str, columns) -> Q:
    column = columns.get(name)
    if column is None:
        raise ScimError(
            400, FILTER_ATTRIBUTE_UNSUPPORTED.format(name=name), "invalidFilter"
        )
    op = node.value.lower()
    raw = None if node.comp_value is None else node.comp_value.value
    if column.kind == "member":
        return _member(op, raw, name)
    if op == "pr":
        present = Q(**{f"{column.field}__isnull": False})
        if column.kind in {"text", "ci-text"}:
            present &= ~Q(**{column.field: ""})
        return present
    value = _value(column, raw, name, op)
    if op == "ne":
        return ~_lookup(column, "eq", value)
    if op not in _TEXT_LOOKUPS:
        raise ScimError(400, FILTER_VALUE_INVALID.format(name=name), "invalidFilter")
    return _lookup(column, op, value)


def _lookup(column: Column, op: str, value) -> Q:
    if value is None:
        return Q(pk__in=[])
    lookup = _TEXT_LOOKUPS[op]
    if column.kind == "ci-text" and lookup in {
        "exact",
        "contains",
        "startswith",
        "endswith",
    }:
        lookup = "i" + lookup
    if column.kind in {"uuid", "bool"} and op != "eq":
        raise ScimError(
            400, FILTER_VALUE_INVALID.format(name=column.field), "invalidFilter"
        )
    return Q(**{f"{column.field}__{lookup}": value})


def _value(column: Column, raw, name: str, op: str):
    if raw is None:
        raise ScimError(400, FILTER_VALUE_INVALID.format(name=name), "invalidFilter")
    if column.kind == "uuid":
        try:
            return uuid.UUID(str(raw))
        except ValueError:
            return None  # a well-formed filter for an id we never issued
    if column.kind == "bool":
        lowered = str(raw).lower()
        if lowered not in {"true", "false"}:
            raise ScimError(
                400, FILTER_VALUE_INVALID.format(name=name), "invalidFilter"
            )
        return lowered == "true"
    if column.kind == "datetime":
        moment = parse_datetime(str(raw))
        if moment is None:
            raise ScimError(
                400, FILTER_VALUE_INVALID.format(name=name), "invalidFilter"
            )
        return moment
    return str(raw)


def _member(op: str, raw, name: str) -> Q:
    members = DirectoryMembership.objects.filter(group=OuterRef("pk"))
    if op == "pr":
        return Q(Exists(members))
    if op != "eq" or raw is None:
        raise ScimError(400, FILTER_VALUE_INVALID.format(name=name), "invalidFilter")
    try:
        member_id = uuid.UUID(str(raw))
    except ValueError:
        return Q(pk__in=[])
    return Q(Exists(members.filter(directory_user__scim_id=member_id)))
