"""SCIM resources as stored documents: cleaning, PATCH, projection.

A resource is kept as the document the IdP last described (canonical
attribute names, booleans as booleans, no password, id or meta). PATCH
operations are applied to a copy of that document and the result is validated
and stored as a whole, so every PATCH is atomic and every form of it (pathless
with dotted keys, value filters, enterprise-extension paths) goes through one
code path.
"""

import copy
from typing import Any

from directory.scim.errors import ScimError
from directory.scim.paths import (
    Path,
    item_matches,
    parse_path,
    simple_equality,
    split_urn,
)
from directory.scim.schemas import READ_ONLY, Attribute, Schema

INVALID_VALUE = "The value for {name!r} is not valid."
NO_TARGET = "A remove operation needs a path."
OPERATION_INVALID = "Each operation needs an op of add, remove or replace."
OPERATIONS_REQUIRED = "A PATCH request needs a list of Operations."
READ_ONLY_ATTRIBUTE = "The attribute {name!r} cannot be changed."
NO_MATCH = "No value matches the path {path!r}."

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def coerce_boolean(value: Any, name: str) -> bool:
    """Read a boolean from a real boolean or a string in any case ("False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ScimError(400, INVALID_VALUE.format(name=name), "invalidValue")


def _clean_value(attribute: Attribute, value: Any) -> Any:
    if value is None:
        return None
    if attribute.type == "boolean":
        return coerce_boolean(value, attribute.name)
    if attribute.type == "complex":
        if isinstance(value, str | int) and attribute.sub("value") is not None:
            # Entra sends the enterprise manager as the bare id of the manager.
            value = {"value": str(value)}
        if not isinstance(value, dict):
            raise ScimError(
                400, INVALID_VALUE.format(name=attribute.name), "invalidValue"
            )
        cleaned = {}
        for key, sub_value in value.items():
            sub = attribute.sub(key)
            if sub is None or sub.mutability == "readOnly":
                continue
            sub_value = _clean_value(sub, sub_value)
            if sub_value is not None:
                cleaned[sub.name] = sub_value
        return cleaned
    if isinstance(value, dict | list):
        raise ScimError(400, INVALID_VALUE.format(name=attribute.name), "invalidValue")
    if attribute.type in ("string", "reference", "dateTime"):
        return str(value)
    return value


def clean_attribute(attribute: Attribute, value: Any) -> Any:
    """Validate and canonicalise one attribute's value against its definition."""
    if value is None:
        return None
    if attribute.multi_valued:
        if isinstance(value, dict):
            # OneLogin sends a single email as an object rather than a list.
            value = [value]
        if not isinstance(value, list):
            if attribute.type == "complex":
                raise ScimError(
                    400, INVALID_VALUE.format(name=attribute.name), "invalidValue"
                )
            value = [value]
        if attribute.type == "complex":
            items = [_clean_value(attribute, item) for item in value]
        else:
            items = [
                {"value": _clean_value(Attribute("value", attribute.type), v)}
                for v in value
            ]
        return _one_primary([item for item in items if item])
    return _clean_value(attribute, value)


def _one_primary(items: list[dict]) -> list[dict]:
    """Keep at most one primary item: the last one marked so wins."""
    primaries = [i for i, item in enumerate(items) if item.get("primary") is True]
    for index in primaries[:-1]:
        items[index] = {**items[index], "primary": False}
    return items


def clean_resource(
    data: dict, core: Schema, extensions: tuple[Schema, ...]
) -> dict[str, Any]:
    """Build the stored document from a POSTed or PUT resource.

    Unknown attributes, read-only ones (id, meta, groups) and the password
    are dropped; names are canonicalised; booleans coerced.
    """
    document: dict[str, Any] = {}
    extension_ids = {s.id.lower(): s for s in extensions}
    for key, value in data.items():
        if key.lower() in extension_ids:
            schema = extension_ids[key.lower()]
            if not isinstance(value, dict):
                raise ScimError(400, INVALID_VALUE.format(name=key), "invalidValue")
            part = {}
            for sub_key, sub_value in value.items():
                attribute = schema.attribute(sub_key)
                if attribute is None or attribute.mutability == "readOnly":
                    continue
                cleaned = clean_attribute(attribute, sub_value)
                if cleaned not in (None, [], {}):
                    part[attribute.name] = cleaned
            if part:
                document[schema.id] = part
            continue
        if key.lower().startswith("urn:"):
            # A dotted URN key such as "urn:...:enterprise:2.0:User:department".
            path = parse_path(key, core, extensions)
            _set_simple(document, path, value)
            continue
        if key in READ_ONLY:
            continue
        attribute = core.attribute(key)
        if attribute is None or attribute.mutability == "readOnly":
            continue
        if attribute.mutability == "writeOnly":
            continue
        cleaned = clean_attribute(attribute, value)
        if cleaned not in (None, [], {}):
            document[attribute.name] = cleaned
    return document


def _set_simple(document: dict, path: Path, value: Any) -> None:
    container = document if path.uri is None else document.setdefault(path.uri, {})
    if path.sub is None:
        cleaned = clean_attribute(path.attribute, value)
        if cleaned is not None:
            container[path.key] = cleaned
        return
    parent = container.setdefault(path.key, {})
    parent[path.sub.name] = _clean_value(path.sub, value)


def apply_patch(
    document: dict,
    operations: Any,
    core: Schema,
    extensions: tuple[Schema, ...],
) -> dict:
    """Apply a PatchOp's operations to a copy of `document` and return it."""
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, OPERATIONS_REQUIRED, "invalidSyntax")
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, OPERATION_INVALID, "invalidSyntax")
        op = str(operation.get("op", "")).strip().lower()
        if op not in {"add", "remove", "replace"}:
            raise ScimError(400, OPERATION_INVALID, "invalidSyntax")
        path_text = operation.get("path")
        value = operation.get("value")
        if path_text in (None, ""):
            if op == "remove":
                raise ScimError(400, NO_TARGET, "noTarget")
            _apply_pathless(result, op, value, core, extensions)
            continue
        if not isinstance(path_text, str):
            raise ScimError(400, INVALID_VALUE.format(name="path"), "invalidPath")
        uri, rest = split_urn(path_text, core, extensions)
        if uri is not None and not rest:
            # The path is a whole extension: its value holds the attributes.
            if op == "remove":
                result.pop(uri, None)
            else:
                _apply_pathless(result, op, {uri: value}, core, extensions)
            continue
        path = _writable_path(path_text, core, extensions)
        _apply(result, op, path, value, path_text)
    return result


def _writable_path(text: str, core: Schema, extensions: tuple[Schema, ...]) -> Path:
    if text.strip() in READ_ONLY:
        raise ScimError(400, READ_ONLY_ATTRIBUTE.format(name=text), "mutability")
    path = parse_path(text, core, extensions)
    if path.attribute.mutability == "readOnly" or (
        path.sub is not None and path.sub.mutability == "readOnly"
    ):
        raise ScimError(400, READ_ONLY_ATTRIBUTE.format(name=text), "mutability")
    return path


def _apply_pathless(document, op, value, core, extensions) -> None:
    """A pathless add/replace: each key of the value is an attribute path.

    Keys may be plain (`displayName`), dotted (`name.givenName`, sent by Entra
    with aadOptscim062020) or carry a schema URN, or be an extension object.
    """
    if not isinstance(value, dict):
        raise ScimError(400, INVALID_VALUE.format(name="value"), "invalidValue")
    extension_ids = {s.id.lower(): s.id for s in extensions}
    for key, item in value.items():
        if key in READ_ONLY or key.lower() in {"id", "schemas", "meta"}:
            # Okta repeats the id in a group rename; it is not a change.
            continue
        if key.lower() in extension_ids and isinstance(item, dict):
            for sub_key, sub_value in item.items():
                if sub_key.lower() in {"schemas", "id", "meta"}:
                    continue
                path = _writable_path(
                    f"{extension_ids[key.lower()]}:{sub_key}", core, extensions
                )
                _apply(document, op, path, sub_value, sub_key)
            continue
        path = parse_path(key, core, extensions)
        if path.attribute.mutability == "readOnly":
            continue
        _apply(document, op, path, item, key)


def _container(document: dict, path: Path) -> dict:
    if path.uri is None:
        return document
    return document.setdefault(path.uri, {})


def _apply(document: dict, op: str, path: Path, value: Any, text: str) -> None:
    container = _container(document, path)
    attribute = path.attribute
    if op == "remove":
        _remove(container, path, value)
    elif path.filter is not None:
        _apply_filtered(container, op, path, value, text)
    elif path.sub is not None:
        cleaned = _clean_value(path.sub, value)
        if attribute.multi_valued:
            items = container.get(path.key) or [{}]
            for item in items:
                item[path.sub.name] = cleaned
            container[path.key] = items
        else:
            parent = container.get(path.key)
            if not isinstance(parent, dict):
                parent = {}
            parent[path.sub.name] = cleaned
            container[path.key] = parent
    elif attribute.multi_valued:
        items = clean_attribute(attribute, value) or []
        if op == "replace":
            container[path.key] = items
        else:
            container[path.key] = _merge_items(container.get(path.key) or [], items)
    elif attribute.type == "complex":
        cleaned = clean_attribute(attribute, value)
        if cleaned is None:
            container.pop(path.key, None)
        else:
            current = container.get(path.key)
            merged = dict(current) if isinstance(current, dict) else {}
            merged.update(cleaned)
            container[path.key] = merged
    else:
        cleaned = clean_attribute(attribute, value)
        if cleaned is None:
            container.pop(path.key, None)
        else:
            container[path.key] = cleaned
    if path.uri is not None and not container:
        document.pop(path.uri, None)


def _merge_items(current: list[dict], new: list[dict]) -> list[dict]:
    """Add items to a multi-valued attribute; an item with the same value merges."""
    merged = [dict(item) for item in current]
    for item in new:
        same = next(
            (
                existing
                for existing in merged
                if "value" in item and _same(existing.get("value"), item.get("value"))
            ),
            None,
        )
        if same is not None:
            same.update(item)
        else:
            merged.append(dict(item))
        if item.get("primary") is True:
            for other in merged:
                if other is not same and other.get("value") != item.get("value"):
                    other["primary"] = False
    return merged


def _same(a: Any, b: Any) -> bool:
    return str(a).lower() == str(b).lower()


def _apply_filtered(container, op, path: Path, value, text) -> None:
    items = [dict(item) for item in (container.get(path.key) or [])]
    matched = [
        i
        for i, item in enumerate(items)
        if item_matches(path.filter, item, path.attribute)
    ]
    if not matched:
        equality = simple_equality(path.filter)
        if equality is None:
            raise ScimError(400, NO_MATCH.format(path=text), "noTarget")
        # Entra adds `emails[type eq "work"].value` for an address it has
        # never sent: create the item the filter describes.
        sub_name, sub_value = equality
        sub = path.attribute.sub(sub_name)
        if sub is None:
            raise ScimError(400, NO_MATCH.format(path=text), "noTarget")
        items.append({sub.name: _clean_value(sub, sub_value)})
        matched = [len(items) - 1]
    for index in matched:
        if path.sub is not None:
            items[index][path.sub.name] = _clean_value(path.sub, value)
        else:
            cleaned = _clean_value(path.attribute, value)
            if op == "replace":
                items[index] = cleaned
            else:
                items[index].update(cleaned)
    container[path.key] = _one_primary(items)


def _remove(container: dict, path: Path, value: Any) -> None:
    current = container.get(path.key)
    if current is None:
        return
    if path.filter is None and path.sub is None:
        if path.attribute.multi_valued and value not in (None, [], {}):
            # Entra without aadOptscim062020: {"op":"Remove","path":"members",
            # "value":[{"value":"id"}]} removes those members, not all of them.
            listed = value if isinstance(value, list) else [value]
            doomed = {
                str(item.get("value") if isinstance(item, dict) else item).lower()
                for item in listed
            }
            container[path.key] = [
                item for item in current if str(item.get("value")).lower() not in doomed
            ]
        else:
            container.pop(path.key, None)
        return
    if not path.attribute.multi_valued:
        if isinstance(current, dict) and path.sub is not None:
            current.pop(path.sub.name, None)
            if not current:
                container.pop(path.key, None)
        return
    kept = []
    for item in current:
        selected = path.filter is None or item_matches(
            path.filter, item, path.attribute
        )
        if not selected:
            kept.append(item)
        elif path.sub is not None:
            item = {k: v for k, v in item.items() if k != path.sub.name}
            if item:
                kept.append(item)
    container[path.key] = kept


_META = Attribute("meta", "complex", mutability="readOnly")


def _projection_paths(text: str | None, core, extensions) -> list[Path] | None:
    if not text:
        return None
    paths = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if part.lower() == "meta":
            paths.append(Path(None, _META, None, None))
            continue
        try:
            paths.append(parse_path(part, core, extensions))
        except ScimError:
            # An attribute this server does not have selects nothing.
            continue
    return paths


def project(
    resource: dict,
    *,
    attributes: str | None,
    excluded: str | None,
    core: Schema,
    extensions: tuple[Schema, ...],
) -> dict:
    """Apply `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5)."""
    wanted = _projection_paths(attributes, core, extensions)
    if wanted is not None:
        out = {"schemas": resource["schemas"], "id": resource["id"]}
        for path in wanted:
            source = resource if path.uri is None else resource.get(path.uri, {})
            if path.key not in source:
                continue
            target = out if path.uri is None else out.setdefault(path.uri, {})
            if path.sub is None:
                target[path.key] = source[path.key]
            elif isinstance(source[path.key], list):
                target[path.key] = [
                    {path.sub.name: item[path.sub.name]}
                    for item in source[path.key]
                    if path.sub.name in item
                ]
            elif path.sub.name in source[path.key]:
                target.setdefault(path.key, {})[path.sub.name] = source[path.key][
                    path.sub.name
                ]
        return out
    unwanted = _projection_paths(excluded, core, extensions) or []
    if not unwanted:
        # Nothing to take out: the resource is rendered as it is.
        return resource
    out = copy.deepcopy(resource)
    for path in unwanted:
        target = out if path.uri is None else out.get(path.uri, {})
        if path.key not in target or path.key in {"id", "schemas"}:
            continue
        if path.sub is None:
            target.pop(path.key)
        elif isinstance(target[path.key], list):
            for item in target[path.key]:
                item.pop(path.sub.name, None)
        else:
            target[path.key].pop(path.sub.name, None)
    return out
