"""Attribute values, as cleaning a resource and applying PATCH both need them:
one value validated and canonicalised against its definition, booleans read
from strings, and at most one primary item in a multi-valued attribute."""

from typing import Any

from directory.scim.documents.messages import INVALID_VALUE
from directory.scim.errors import ScimError
from directory.scim.schemas import Attribute

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def coerce_boolean(value: Any, name: str) -> bool:
    """Read a boolean from a real boolean or a string in any case ("False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ScimError(400, INVALID_VALUE.format(name=name), "invalidValue")


def clean_value(attribute: Attribute, value: Any) -> Any:
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
            sub_value = clean_value(sub, sub_value)
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
            items = [clean_value(attribute, item) for item in value]
        else:
            items = [
                {"value": clean_value(Attribute("value", attribute.type), v)}
                for v in value
            ]
        return one_primary([item for item in items if item])
    return clean_value(attribute, value)


def one_primary(items: list[dict]) -> list[dict]:
    """Keep at most one primary item: the last one marked so wins."""
    primaries = [i for i, item in enumerate(items) if item.get("primary") is True]
    for index in primaries[:-1]:
        items[index] = {**items[index], "primary": False}
    return items
