"""The SCIM operations on a directory's Users: list, search, read, create,
replace, patch and delete.

The writes go through `directory.provisioning`, which applies the rules for
the person behind each directory user.
"""

from django.db import transaction
from django.db.models import Prefetch

from directory import provisioning
from directory.models import Directory, DirectoryMembership, DirectoryUser
from directory.scim import filters
from directory.scim.documents.cleaning import clean_resource
from directory.scim.documents.patch import apply_patch
from directory.scim.errors import NOT_FOUND, ScimError
from directory.scim.handlers._common import (
    _list,
    _one,
    _require_patch_schema,
    _scim_id,
    _search_params,
)
from directory.scim.handlers.context import Context
from directory.scim.handlers.messages import USER_NAME_REQUIRED
from directory.scim.resources import user_record, user_resource
from directory.scim.schemas import ENTERPRISE_SCHEMA, USER_SCHEMA

USER_EXTENSIONS = (ENTERPRISE_SCHEMA,)


def _users(directory: Directory):
    memberships = DirectoryMembership.objects.select_related("group").order_by("id")
    return (
        DirectoryUser.objects.filter(directory=directory, deleted_at__isnull=True)
        .select_related("directory__organization", "user")
        .prefetch_related(Prefetch("memberships", queryset=memberships))
    )


def _user(ctx: Context, scim_id: str, *, lock: bool = False) -> DirectoryUser:
    users = _users(ctx.directory)
    if lock:
        users = users.select_for_update(of=("self",))
    directory_user = users.filter(scim_id=_scim_id(scim_id)).first()
    if directory_user is None:
        raise ScimError(404, NOT_FOUND)
    return directory_user


def users_list(ctx: Context, params) -> tuple[int, dict]:
    queryset = _users(ctx.directory).order_by("id")
    if params.get("filter"):
        queryset = queryset.filter(
            filters.filter_q(params["filter"], filters.USER_COLUMNS)
        )
    if params.get("excludedAttributes", "").lower() == "groups":
        queryset = queryset.prefetch_related(None)
    return 200, _list(
        ctx, queryset, params, user_resource, USER_SCHEMA, USER_EXTENSIONS
    )


def users_search(ctx: Context, body: dict) -> tuple[int, dict]:
    return users_list(ctx, _search_params(body))


def user_get(ctx: Context, scim_id: str) -> tuple[int, dict]:
    resource = user_resource(_user(ctx, scim_id), ctx.base_url)
    return 200, _one(ctx, resource, USER_SCHEMA, USER_EXTENSIONS)


def _user_document(body: dict) -> dict:
    document = clean_resource(body, USER_SCHEMA, USER_EXTENSIONS)
    if not str(document.get("userName") or "").strip():
        raise ScimError(400, USER_NAME_REQUIRED, "invalidValue")
    return document


def user_create(ctx: Context, body: dict) -> tuple[int, dict]:
    # TODO(#5): bench/scim_create.py measures a create at about 0.5 of the
    # bare insert view on this two-core machine, under the 0.6 target; plain
    # django-scim2 measures 0.35-0.41 there (bench/scim_plain.py) where the
    # target assumes 0.45, and the create's statement sent by a view doing
    # nothing else reaches 0.62 (bench/scim_floor.py). What remains is CPU
    # spread thin in pieces of 0.05 ms or less: the document, the rules, the
    # rows and the answer.
    document = _user_document(body)

    directory_user = provisioning.directory_user_create(
        directory=ctx.directory,
        record=user_record(document),
        along=[ctx.log(201)] if ctx.log else [],
        check=ctx.check,
    )
    resource = user_resource(directory_user, ctx.base_url, memberships=())
    return 201, _one(ctx, resource, USER_SCHEMA, USER_EXTENSIONS)


@transaction.atomic
def user_replace(ctx: Context, scim_id: str, body: dict) -> tuple[int, dict]:
    directory_user = _user(ctx, scim_id, lock=True)
    document = _user_document(body)

    provisioning.directory_user_update(
        directory_user=directory_user,
        record=user_record(document, active_default=directory_user.active),
    )
    return user_get(ctx, scim_id)


def _current_user_document(directory_user: DirectoryUser) -> dict:
    document = dict(directory_user.attributes or {})
    document["userName"] = directory_user.user_name
    if "active" in document:
        document["active"] = directory_user.active
    if directory_user.external_id:
        document["externalId"] = directory_user.external_id
    else:
        document.pop("externalId", None)
    return document


@transaction.atomic
def user_patch(ctx: Context, scim_id: str, body: dict) -> tuple[int, dict]:
    directory_user = _user(ctx, scim_id, lock=True)
    _require_patch_schema(body)
    document = apply_patch(
        _current_user_document(directory_user),
        body.get("Operations"),
        USER_SCHEMA,
        USER_EXTENSIONS,
    )
    if not str(document.get("userName") or "").strip():
        raise ScimError(400, USER_NAME_REQUIRED, "invalidValue")

    provisioning.directory_user_update(
        directory_user=directory_user,
        record=user_record(document, active_default=directory_user.active),
    )
    return user_get(ctx, scim_id)


@transaction.atomic
def user_delete(ctx: Context, scim_id: str) -> tuple[int, None]:
    directory_user = _user(ctx, scim_id, lock=True)
    provisioning.directory_user_delete(directory_user=directory_user)
    return 204, None
