"""SCIM 1.1 as a translation of requests into SCIM 2.0 and of answers back.

Okta's SCIM 1.1 client and other 1.1 senders are served by the 2.0 handlers:
URNs are rewritten, a partial-resource PATCH becomes `add`/`replace`/`remove`
operations (`"operation":"delete"` on a member becomes a filtered remove,
`meta.attributes` becomes removes), and errors use the 1.1 `Errors` envelope.
"""

from typing import Any

from directory.scim.schemas import (
    ENTERPRISE,
    GROUP,
    LIST_RESPONSE,
    PATCH_OP,
    SEARCH_REQUEST,
    USER,
)

CORE_V1 = "urn:scim:schemas:core:1.0"
ENTERPRISE_V1 = "urn:scim:schemas:extension:enterprise:1.0"
LIST_RESPONSE_V1 = "urn:scim:schemas:core:1.0:ListResponse"

_SKIP = {"schemas", "id", "meta"}


def _rename_extension(data: dict, old: str, new: str) -> dict:
    out = {}
    for key, value in data.items():
        out[new if key.lower() == old.lower() else key] = value
    return out


def request_to_v2(body: dict, kind: str) -> dict:
    """A 1.1 resource body (POST or PUT) in 2.0 form."""
    core = USER if kind == "Users" else GROUP
    body = _rename_extension(body, ENTERPRISE_V1, ENTERPRISE)
    extension = body.get(ENTERPRISE)
    if isinstance(extension, dict) and isinstance(extension.get("manager"), dict):
        manager = dict(extension["manager"])
        if "managerId" in manager:
            manager["value"] = manager.pop("managerId")
        body[ENTERPRISE] = {**extension, "manager": manager}
    schemas = []
    for schema in body.get("schemas") or [CORE_V1]:
        if schema == CORE_V1:
            schemas.append(core)
        elif schema == ENTERPRISE_V1:
            schemas.append(ENTERPRISE)
        else:
            schemas.append(schema)
    body["schemas"] = schemas
    return body


def patch_to_v2(body: dict, kind: str) -> dict:
    """A 1.1 partial-resource PATCH as a 2.0 PatchOp."""
    body = request_to_v2(body, kind)
    operations: list[dict[str, Any]] = []
    meta = body.get("meta")
    if isinstance(meta, dict):
        for name in meta.get("attributes") or []:
            operations.append({"op": "remove", "path": str(name)})
    for key, value in body.items():
        if key in _SKIP:
            continue
        if key == ENTERPRISE and isinstance(value, dict):
            for sub_key, sub_value in value.items():
                operations.append(
                    {
                        "op": "replace",
                        "path": f"{ENTERPRISE}:{sub_key}",
                        "value": sub_value,
                    }
                )
            continue
        if isinstance(value, list):
            added = []
            for item in value:
                if isinstance(item, dict) and str(
                    item.get("operation", "")
                ).lower() == ("delete"):
                    operations.append(
                        {
                            "op": "remove",
                            "path": f'{key}[value eq "{_quoted(item.get("value"))}"]',
                        }
                    )
                elif isinstance(item, dict):
                    added.append({k: v for k, v in item.items() if k != "operation"})
                else:
                    added.append(item)
            if added:
                operations.append({"op": "add", "path": key, "value": added})
            continue
        operations.append({"op": "replace", "path": key, "value": value})
    return {"schemas": [PATCH_OP], "Operations": operations}


def _quoted(value: Any) -> str:
    return str(value or "").replace("\\", "\\\\").replace('"', '\\"')


def search_to_v2(body: dict) -> dict:
    return {**body, "schemas": [SEARCH_REQUEST]}


def _resource_to_v1(resource: dict) -> dict:
    out = dict(resource)
    schemas = out.get("schemas") or []
    if USER in schemas or GROUP in schemas:
        out["schemas"] = [CORE_V1] + ([ENTERPRISE_V1] if ENTERPRISE in schemas else [])
    extension = out.pop(ENTERPRISE, None)
    if isinstance(extension, dict):
        extension = dict(extension)
        manager = extension.get("manager")
        if isinstance(manager, dict) and "value" in manager:
            manager = dict(manager)
            manager["managerId"] = manager.pop("value")
            extension["manager"] = manager
        out[ENTERPRISE_V1] = extension
    return out


def response_to_v1(payload: dict | None) -> dict | None:
    """A 2.0 answer (resource, list, discovery document) in 1.1 form."""
    if payload is None:
        return None
    if LIST_RESPONSE in (payload.get("schemas") or []):
        return {
            **payload,
            "schemas": [CORE_V1, LIST_RESPONSE_V1],
            "Resources": [_resource_to_v1(r) for r in payload["Resources"]],
        }
    if "schemas" in payload and not {USER, GROUP} & set(payload["schemas"]):
        # Discovery documents: the 1.1 core URN marks them as 1.1 answers.
        return {**payload, "schemas": [CORE_V1, *payload["schemas"]]}
    return _resource_to_v1(payload)


def error_to_v1(status: int, detail: str, scim_type: str | None) -> dict:
    """The 1.1 `Errors` envelope, with `detail` and `status` as 2.0 clients read."""
    error = {"description": detail, "code": str(status)}
    if scim_type:
        error["scimType"] = scim_type
    return {
        "schemas": [CORE_V1],
        "Errors": [error],
        "detail": detail,
        "status": str(status),
    }
