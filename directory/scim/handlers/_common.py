"""What the Users and Groups handlers share: paging, projecting a list or
one resource, reading a SCIM id, and the schemas a search or a PATCH must
name."""

import uuid

from directory.scim.documents.projection import project
from directory.scim.errors import NOT_FOUND, ScimError
from directory.scim.handlers.context import Context
from directory.scim.handlers.messages import (
    PAGING_INVALID,
    SCHEMA_PATCH_REQUIRED,
    SCHEMA_SEARCH_REQUIRED,
)
from directory.scim.schemas import LIST_RESPONSE, MAX_RESULTS, PATCH_OP, SEARCH_REQUEST


def _int(value, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScimError(400, PAGING_INVALID, "invalidValue") from None


def _page(params) -> tuple[int, int]:
    start = max(1, _int(params.get("startIndex"), 1))
    count = min(max(0, _int(params.get("count"), MAX_RESULTS)), MAX_RESULTS)
    return start, count


def _list(ctx: Context, queryset, params, render, core, extensions) -> dict:
    start, count = _page(params)
    total = queryset.count()
    rows = list(queryset[start - 1 : start - 1 + count]) if count else []
    resources = [
        project(
            render(row, ctx.base_url),
            attributes=params.get("attributes") or ctx.attributes,
            excluded=params.get("excludedAttributes") or ctx.excluded,
            core=core,
            extensions=extensions,
        )
        for row in rows
    ]
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def _one(ctx: Context, resource: dict, core, extensions) -> dict:
    return project(
        resource,
        attributes=ctx.attributes,
        excluded=ctx.excluded,
        core=core,
        extensions=extensions,
    )


def _scim_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ScimError(404, NOT_FOUND) from None


def _search_params(body: dict) -> dict:
    if SEARCH_REQUEST not in (body.get("schemas") or []):
        raise ScimError(400, SCHEMA_SEARCH_REQUIRED, "invalidSyntax")
    params = {}
    for key in ("filter", "startIndex", "count"):
        if body.get(key) is not None:
            params[key] = body[key]
    for key in ("attributes", "excludedAttributes"):
        value = body.get(key)
        if value:
            params[key] = ",".join(value) if isinstance(value, list) else str(value)
    return params


def _require_patch_schema(body: dict) -> None:
    schemas = body.get("schemas")
    if schemas is not None and PATCH_OP not in schemas:
        raise ScimError(400, SCHEMA_PATCH_REQUIRED, "invalidSyntax")
