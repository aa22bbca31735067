"""The stored document built from a POSTed or PUT resource."""

from typing import Any

from directory.scim.documents.messages import INVALID_VALUE
from directory.scim.documents.values import clean_attribute, clean_value
from directory.scim.errors import ScimError
from directory.scim.paths import Path, parse_path
from directory.scim.schemas import READ_ONLY, Schema


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
    parent[path.sub.name] = clean_value(path.sub, value)
