"""Attribute paths and value filters, as PATCH, projection and filters use them.

A path is `[URN:]attr[\\[filter\\]][.sub]` (RFC 7644 §3.5.2). Attribute names
are case-insensitive: a path is resolved against the schema to the canonical
names that the stored document uses.
"""

import re
from dataclasses import dataclass
from typing import Any

from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser

from directory.scim.errors import ScimError
from directory.scim.schemas import Attribute, Schema

INVALID_PATH = "The path {path!r} does not name an attribute of this resource."
INVALID_FILTER = "The filter could not be parsed."

_PATH_RE = re.compile(
    r"^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>.+)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$",
    re.DOTALL,
)


@dataclass(frozen=True)
class Path:
    """A resolved path: extension URN (or None), attribute, value filter, sub."""

    uri: str | None
    attribute: Attribute
    filter: ast.AST | None
    sub: Attribute | None

    @property
    def key(self) -> str:
        return self.attribute.name


def parse_filter(text: str) -> ast.AST:
    try:
        return SCIMParser().parse(SCIMLexer().tokenize(text))
    except Exception as exc:  # the parser raises several unrelated types
        raise ScimError(400, INVALID_FILTER, "invalidFilter") from exc


def split_urn(path: str, core: Schema, extensions: tuple[Schema, ...]):
    """Split a leading schema URN off a path; return (extension URN or None, rest)."""
    if not path.lower().startswith("urn:"):
        return None, path
    for schema in (core, *extensions):
        prefix = schema.id.lower() + ":"
        if path.lower().startswith(prefix):
            rest = path[len(prefix) :]
            return (None if schema is core else schema.id), rest
        if path.lower() == schema.id.lower():
            return (None if schema is core else schema.id), ""
    raise ScimError(400, INVALID_PATH.format(path=path), "invalidPath")


def parse_path(path: str, core: Schema, extensions: tuple[Schema, ...]) -> Path:
    uri, rest = split_urn(path.strip(), core, extensions)
    match = _PATH_RE.match(rest)
    if match is None:
        raise ScimError(400, INVALID_PATH.format(path=path), "invalidPath")
    schema = core if uri is None else next(s for s in extensions if s.id == uri)
    attribute = schema.attribute(match["attr"])
    if attribute is None:
        raise ScimError(400, INVALID_PATH.format(path=path), "invalidPath")
    value_filter = None
    if match["filter"] is not None:
        if not attribute.multi_valued:
            raise ScimError(400, INVALID_PATH.format(path=path), "invalidPath")
        value_filter = parse_filter(match["filter"])
    sub = None
    if match["sub"] is not None:
        sub = attribute.sub(match["sub"])
        if sub is None:
            raise ScimError(400, INVALID_PATH.format(path=path), "invalidPath")
    return Path(uri, attribute, value_filter, sub)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def item_matches(node: ast.AST, item: dict, attribute: Attribute) -> bool:
    """Evaluate a value filter (`type eq "work"`) against one multi-valued item."""
    if isinstance(node, ast.Filter):
        result = item_matches(node.expr, item, attribute)
        return not result if node.negated else result
    if isinstance(node, ast.LogExpr):
        left = item_matches(node.expr1, item, attribute)
        if node.op.lower() == "and":
            return left and item_matches(node.expr2, item, attribute)
        return left or item_matches(node.expr2, item, attribute)
    if isinstance(node, ast.AttrExpr):
        name = node.attr_path.attr_name
        if not isinstance(name, str):
            return False
        sub = attribute.sub(name)
        key = sub.name if sub is not None else name
        actual = item.get(key)
        op = node.value.lower()
        if op == "pr":
            return actual not in (None, "", [], {})
        expected = _text(node.comp_value.value if node.comp_value else None)
        actual_text = _text(actual)
        if sub is None or not sub.case_exact:
            expected, actual_text = expected.lower(), actual_text.lower()
        return _compare(op, actual_text, expected, present=actual is not None)
    return False


def _compare(op: str, actual: str, expected: str, *, present: bool) -> bool:
    if op == "eq":
        return present and actual == expected
    if op == "ne":
        return not present or actual != expected
    if not present:
        return False
    if op == "co":
        return expected in actual
    if op == "sw":
        return actual.startswith(expected)
    if op == "ew":
        return actual.endswith(expected)
    if op == "gt":
        return actual > expected
    if op == "ge":
        return actual >= expected
    if op == "lt":
        return actual < expected
    if op == "le":
        return actual <= expected
    return False


def simple_equality(node: ast.AST) -> tuple[str, str] | None:
    """The (sub-attribute, value) of a filter that is one `x eq "y"`, else None."""
    while isinstance(node, ast.Filter) and not node.negated:
        node = node.expr
    if (
        isinstance(node, ast.AttrExpr)
        and node.value.lower() == "eq"
        and isinstance(node.attr_path.attr_name, str)
        and node.attr_path.sub_attr is None
        and node.comp_value is not None
    ):
        return node.attr_path.attr_name, node.comp_value.value
    return None
