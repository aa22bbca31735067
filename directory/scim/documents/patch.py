"""A PatchOp's operations applied to a copy of a stored document.

Each operation's path is parsed against the resource's schemas and each value
cleaned as a POST's would be; a path naming a read-only attribute is
refused.
"""

import copy
from typing import Any

from directory.scim.documents.messages import (
    INVALID_VALUE,
    NO_MATCH,
    NO_TARGET,
    OPERATION_INVALID,
    OPERATIONS_REQUIRED,
    READ_ONLY_ATTRIBUTE,
)
from directory.scim.documents.values import (
    clean_attribute,
    clean_value,
    one_primary,
)
from directory.scim.errors import ScimError
from directory.scim.paths import (
    Path,
    item_matches,
    parse_path,
    simple_equality,
    split_urn,
)
from directory.scim.schemas import READ_ONLY, Schema


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
        cleaned = clean_value(path.sub, value)
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
        items.append({sub.name: clean_value(sub, sub_value)})
        matched = [len(items) - 1]
    for index in matched:
        if path.sub is not None:
            items[index][path.sub.name] = clean_value(path.sub, value)
        else:
            cleaned = clean_value(path.attribute, value)
            if op == "replace":
                items[index] = cleaned
            else:
                items[index].update(cleaned)
    container[path.key] = one_primary(items)


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
