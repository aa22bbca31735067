"""The SCIM HTTP edge: authentication, the entitlement gate, JSON, errors, logging.

Every request names its directory in the URL and must carry that directory's
bearer token. A refused request changes nothing. The request log keeps the
method, path (without the query string), status, timing and a summary made of
attribute and operation names only, never values, tokens or bodies.
"""

import functools
import json
import logging
import re
import time
from collections import OrderedDict

from django.http import HttpResponse
from django.urls import get_script_prefix, reverse
from django.views.decorators.csrf import csrf_exempt

from directory.models import DirectoryRequest
from directory.scim import v1
from directory.scim.auth import authenticate, authenticate_recent
from directory.scim.errors import (
    BODY_NOT_OBJECT,
    BODY_TOO_LARGE,
    DIRECTORY_INACTIVE,
    INVALID_JSON,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    NOT_IMPLEMENTED,
    UNAUTHORIZED,
    ScimError,
    scim_error_from,
)
from directory.scim.handlers import groups, users
from directory.scim.handlers.context import Context
from directory.scim.schemas import (
    ERROR,
    LIST_RESPONSE,
    MAX_PAYLOAD_BYTES,
    resource_type_documents,
    schema_documents,
    service_provider_config,
)
from progression import jsontext
from progression.errors import ProgressionError
from progression.rows import ChainCheckFailed

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/scim+json"

_HANDLERS = {
    ("Users", None, "GET"): lambda ctx, r, i, b: users.users_list(ctx, r.GET),
    ("Users", None, "POST"): lambda ctx, r, i, b: users.user_create(ctx, b),
    ("Users", ".search", "POST"): lambda ctx, r, i, b: users.users_search(ctx, b),
    ("Users", "id", "GET"): lambda ctx, r, i, b: users.user_get(ctx, i),
    ("Users", "id", "PUT"): lambda ctx, r, i, b: users.user_replace(ctx, i, b),
    ("Users", "id", "PATCH"): lambda ctx, r, i, b: users.user_patch(ctx, i, b),
    ("Users", "id", "DELETE"): lambda ctx, r, i, b: users.user_delete(ctx, i),
    ("Groups", None, "GET"): lambda ctx, r, i, b: groups.groups_list(ctx, r.GET),
    ("Groups", None, "POST"): lambda ctx, r, i, b: groups.group_create(ctx, b),
    ("Groups", ".search", "POST"): lambda ctx, r, i, b: groups.groups_search(ctx, b),
    ("Groups", "id", "GET"): lambda ctx, r, i, b: groups.group_get(ctx, i),
    ("Groups", "id", "PUT"): lambda ctx, r, i, b: groups.group_replace(ctx, i, b),
    ("Groups", "id", "PATCH"): lambda ctx, r, i, b: groups.group_patch(ctx, i, b),
    ("Groups", "id", "DELETE"): lambda ctx, r, i, b: groups.group_delete(ctx, i),
}


def _response(status: int, payload, *, headers=None) -> HttpResponse:
    body = b"" if payload is None else jsontext.dumps(payload)
    response = HttpResponse(
        body, status=status, content_type=CONTENT_TYPE if body else None
    )
    if not body:
        del response["Content-Type"]
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _error(version: str, error: ScimError) -> HttpResponse:
    if version == "v1":
        payload = v1.error_to_v1(error.status, error.detail, error.scim_type)
    else:
        payload = {"schemas": [ERROR], "status": str(error.status)}
        if error.scim_type:
            payload["scimType"] = error.scim_type
        payload["detail"] = error.detail
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="SCIM"'
    return _response(error.status, payload, headers=headers)


def _body(request) -> dict:
    if len(request.body) > MAX_PAYLOAD_BYTES:
        raise ScimError(413, BODY_TOO_LARGE)
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        raise ScimError(400, INVALID_JSON, "invalidSyntax") from None
    if not isinstance(data, dict):
        raise ScimError(400, BODY_NOT_OBJECT, "invalidSyntax")
    return data


_FILTER_VALUE = re.compile(r'"(?:[^"\\]|\\.)*"')


def _summary(kind: str, method: str, request, body: dict) -> str:
    """Attribute and operation names only: enough to debug, nothing personal."""
    parts = [kind]
    if request.GET.get("filter"):
        parts.append("filter " + _FILTER_VALUE.sub('"…"', request.GET["filter"])[:120])
    operations = body.get("Operations") if isinstance(body, dict) else None
    if isinstance(operations, list):
        names = []
        for operation in operations[:20]:
            if not isinstance(operation, dict):
                continue
            path = operation.get("path")
            if path:
                target = _FILTER_VALUE.sub('"…"', str(path))
            elif isinstance(operation.get("value"), dict):
                target = ",".join(sorted(str(k) for k in operation["value"]))
            else:
                target = ""
            names.append(f"{str(operation.get('op', '')).lower()}({target})")
        parts.append(" ".join(names))
    elif method in {"POST", "PUT", "PATCH"} and body:
        names = sorted(k for k in body if k not in {"password", "schemas"})
        parts.append("attributes " + ",".join(names))
    return " ".join(parts)[:500]


def _base_url(request, version: str, public_id) -> str:
    return _origin(request) + _root_path(
        get_script_prefix(), version, public_id
    ).rstrip("/")


# What `build_absolute_uri` reads to make the scheme and host of a URL.
_ORIGIN_KEYS = (
    "HTTP_HOST",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PROTO",
    "SERVER_NAME",
    "SERVER_PORT",
)
_origins: OrderedDict[tuple, str] = OrderedDict()


def _origin(request) -> str:
    """The request's scheme and host, as `https://host`.

    Django validates the host against `ALLOWED_HOSTS` each time it is asked;
    an origin it has accepted once is kept by the headers that made it, so
    each request of a provisioning burst does not validate it again.
    """
    meta = request.META
    key = (request.is_secure(), *(meta.get(name) for name in _ORIGIN_KEYS))
    origin = _origins.get(key)
    if origin is None:
        origin = request.build_absolute_uri("/").removesuffix("/")
        _origins[key] = origin
        while len(_origins) > 64:
            _origins.popitem(last=False)
    return origin


@functools.lru_cache(maxsize=1024)
def _root_path(prefix: str, version: str, public_id) -> str:
    # Reversed once per directory: every request's resource locations use it.
    return reverse(f"scim-{version}:root", kwargs={"public_id": public_id})


_KINDS = {
    name.lower(): name
    for name in (
        "Users",
        "Groups",
        "ServiceProviderConfig",
        "ResourceTypes",
        "Schemas",
        "Bulk",
        "Me",
    )
}


def _serve(request, version: str, public_id, kind: str, scim_id=None, action=None):
    started = time.monotonic()
    kind = _KINDS.get(kind.lower(), kind)
    if kind == "Users" and request.method == "POST" and not (scim_id or action):
        # A create may use the directory as this process last read it; its
        # statement checks that nothing changed since, and writes nothing
        # otherwise, and the request is then answered as any other.
        recent = authenticate_recent(request, public_id)
        if recent is not None:
            try:
                return _answer(
                    request, version, *recent, kind, scim_id, action, started
                )
            except ChainCheckFailed:
                # Answered below from a fresh read, which keeps what it read.
                pass
    found = authenticate(request, public_id)
    if found is None:
        return _error(version, ScimError(401, UNAUTHORIZED))
    directory, answer = found
    return _answer(
        request, version, directory, None, answer, kind, scim_id, action, started
    )


def _answer(request, version, directory, check, answer, kind, scim_id, action, started):
    status, response, body = 500, None, {}
    entry = DirectoryRequest(
        directory=directory, method=request.method[:10], path=request.path[:500]
    )
    logged = True
    try:
        if not directory.is_active:
            raise ScimError(403, DIRECTORY_INACTIVE)
        if not answer.available:
            raise ScimError(403, answer.message)
        response, body = _route(
            request, version, directory, check, kind, scim_id, action, (entry, started)
        )
        status = response.status_code
    except ChainCheckFailed:
        # Nothing was written; the caller answers again, and logs that.
        logged = False
        raise
    except ScimError as exc:
        status, response = exc.status, _error(version, exc)
    except ProgressionError as exc:
        error = scim_error_from(exc)
        status, response = error.status, _error(version, error)
    finally:
        if logged:
            _log_write(
                entry,
                started,
                status,
                lambda: _summary(kind, request.method, request, body),
            )
    return response


def _log_entry(entry, started, summary, status: int) -> DirectoryRequest:
    """The log entry of a request answering `status`, as of now."""
    entry.status = status
    entry.duration_ms = int((time.monotonic() - started) * 1000)
    entry.summary = summary
    return entry


def _log_write(entry, started, status: int, summary) -> None:
    """Write the request's log entry; `summary` makes its summary if needed."""
    # A create may have written the entry in its own statement, as the answer
    # it was about to give; only a later failure changes that answer.
    if entry.pk is None:
        _log_entry(entry, started, summary(), status).save(force_insert=True)
    elif entry.status != status:
        entry.status = status
        entry.save(update_fields=["status"])


def _route(request, version, directory, check, kind, scim_id, action, log):
    """Answer one request; return the response and the parsed body (for the log)."""
    base_url = _base_url(request, version, directory.public_id)
    if kind in {"ServiceProviderConfig", "ResourceTypes", "Schemas"}:
        return _discovery(request, version, base_url, kind, scim_id), {}
    if kind == "unknown":
        raise ScimError(404, NOT_FOUND)
    if kind not in {"Users", "Groups"}:
        raise ScimError(501, NOT_IMPLEMENTED)
    shape = action or ("id" if scim_id else None)
    handler = _HANDLERS.get((kind, shape, request.method))
    if handler is None:
        raise ScimError(405, METHOD_NOT_ALLOWED)
    body = _body(request) if request.method in {"POST", "PUT", "PATCH"} else {}
    logged_body = body
    if version == "v1":
        if request.method == "PATCH":
            body = v1.patch_to_v2(body, kind)
        elif shape == ".search":
            body = v1.search_to_v2(body)
        elif request.method in {"POST", "PUT"}:
            body = v1.request_to_v2(body, kind)
    entry, started = log
    ctx = Context(
        directory=directory,
        base_url=base_url,
        attributes=request.GET.get("attributes"),
        excluded=request.GET.get("excludedAttributes"),
        check=check,
        log=functools.partial(
            _log_entry,
            entry,
            started,
            _summary(kind, request.method, request, logged_body),
        ),
    )
    if version == "v1" and request.method == "PATCH" and not body["Operations"]:
        status, payload = (users.user_get if kind == "Users" else groups.group_get)(
            ctx, scim_id
        )
    else:
        status, payload = handler(ctx, request, scim_id, body)
    headers = {}
    if status == 201:
        headers["Location"] = payload["meta"]["location"]
    if version == "v1":
        payload = v1.response_to_v1(payload)
    return _response(status, payload, headers=headers), logged_body


def _discovery(request, version, base_url, kind, item):
    if request.method != "GET":
        raise ScimError(405, METHOD_NOT_ALLOWED)
    if kind == "ServiceProviderConfig":
        if item:
            raise ScimError(404, NOT_FOUND)
        payload = service_provider_config(
            base_url, request.build_absolute_uri(reverse("directory:index"))
        )
    else:
        documents = (
            schema_documents(base_url)
            if kind == "Schemas"
            else resource_type_documents(base_url)
        )
        if item:
            payload = next((d for d in documents if d["id"] == item), None)
            if payload is None:
                raise ScimError(404, NOT_FOUND)
        else:
            payload = {
                "schemas": [LIST_RESPONSE],
                "totalResults": len(documents),
                "startIndex": 1,
                "itemsPerPage": len(documents),
                "Resources": documents,
            }
    if version == "v1":
        payload = v1.response_to_v1(payload)
    return _response(200, payload)


def endpoint(version: str):
    """The view for one SCIM version; URL kwargs say which resource."""

    @csrf_exempt
    def view(request, public_id, kind, scim_id=None, action=None):
        try:
            return _serve(request, version, public_id, kind, scim_id, action)
        except Exception:
            logger.exception("scim request failed", extra={"public_id": str(public_id)})
            return _error(
                version, ScimError(500, "The server could not process this request.")
            )

    return view
