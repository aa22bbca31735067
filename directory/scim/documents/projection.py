"""`attributes` and `excludedAttributes` applied to a rendered resource
(RFC 7644 §3.4.2.5)."""

import copy

from directory.scim.errors import ScimError
from directory.scim.paths import Path, parse_path
from directory.scim.schemas import Attribute, Schema

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
