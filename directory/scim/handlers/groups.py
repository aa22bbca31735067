"""The SCIM operations on a directory's Groups and their members.

A group's members must be users of the same directory; a change of members
reconciles the directory users it adds or removes (see
`directory.provisioning`).
"""

import uuid

from django.db import transaction
from django.db.models import Prefetch

from directory import provisioning
from directory.models import (
    Directory,
    DirectoryGroup,
    DirectoryMembership,
    DirectoryUser,
)
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
from directory.scim.handlers.messages import (
    DISPLAY_NAME_REQUIRED,
    GROUP_NAME_TAKEN,
    MEMBER_UNKNOWN,
)
from directory.scim.resources import group_resource
from directory.scim.schemas import GROUP_SCHEMA


def _groups(directory: Directory, *, members: bool = True):
    groups = DirectoryGroup.objects.filter(directory=directory).select_related(
        "directory"
    )
    if members:
        memberships = DirectoryMembership.objects.select_related(
            "directory_user"
        ).order_by("id")
        groups = groups.prefetch_related(Prefetch("memberships", queryset=memberships))
    return groups


def _wants_members(ctx: Context, params=None) -> bool:
    params = params or {}
    excluded = (params.get("excludedAttributes") or ctx.excluded or "").lower()
    attributes = (params.get("attributes") or ctx.attributes or "").lower()
    if "members" in {part.strip() for part in excluded.split(",")}:
        return False
    if attributes and "members" not in attributes:
        return False
    return True


def _render_group(row, base_url):
    # Members are rendered only when they were loaded for this request.
    loaded = "memberships" in getattr(row, "_prefetched_objects_cache", {})
    return group_resource(row, base_url, members=loaded)


def _group(ctx: Context, scim_id: str, *, lock: bool = False, members=True):
    groups = _groups(ctx.directory, members=members)
    if lock:
        groups = groups.select_for_update(of=("self",))
    group = groups.filter(scim_id=_scim_id(scim_id)).first()
    if group is None:
        raise ScimError(404, NOT_FOUND)
    return group


def groups_list(ctx: Context, params) -> tuple[int, dict]:
    queryset = _groups(ctx.directory, members=_wants_members(ctx, params)).order_by(
        "id"
    )
    if params.get("filter"):
        queryset = queryset.filter(
            filters.filter_q(params["filter"], filters.GROUP_COLUMNS)
        )
    return 200, _list(ctx, queryset, params, _render_group, GROUP_SCHEMA, ())


def groups_search(ctx: Context, body: dict) -> tuple[int, dict]:
    return groups_list(ctx, _search_params(body))


def group_get(ctx: Context, scim_id: str) -> tuple[int, dict]:
    group = _group(ctx, scim_id, members=_wants_members(ctx))
    return 200, _one(ctx, _render_group(group, ctx.base_url), GROUP_SCHEMA, ())


def _group_document(body: dict) -> dict:
    document = clean_resource(body, GROUP_SCHEMA, ())
    if not str(document.get("displayName") or "").strip():
        raise ScimError(400, DISPLAY_NAME_REQUIRED, "invalidValue")
    return document


def _check_group_name(ctx: Context, name: str, exclude=None) -> None:
    taken = DirectoryGroup.objects.filter(
        directory=ctx.directory, display_name__iexact=name.strip()
    )
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ScimError(409, GROUP_NAME_TAKEN, "uniqueness")


def _member_rows(ctx: Context, members: list[dict]) -> dict[uuid.UUID, int]:
    """Map member ids to directory-user rows of this directory; refuse strangers."""
    wanted = {}
    for member in members:
        value = str(member.get("value") or "")
        try:
            wanted[uuid.UUID(value)] = value
        except ValueError:
            raise ScimError(
                400, MEMBER_UNKNOWN.format(value=value), "invalidValue"
            ) from None
    found = dict(
        DirectoryUser.objects.filter(
            directory=ctx.directory,
            deleted_at__isnull=True,
            scim_id__in=list(wanted),
        ).values_list("scim_id", "pk")
    )
    for scim_id, value in wanted.items():
        if scim_id not in found:
            raise ScimError(400, MEMBER_UNKNOWN.format(value=value), "invalidValue")
    return found


def _save_group(ctx: Context, group: DirectoryGroup, document: dict) -> None:
    members = document.pop("members", None) or []
    name = str(document["displayName"]).strip()
    _check_group_name(ctx, name, exclude=group if group.pk else None)
    rows = _member_rows(ctx, members)

    group.display_name = name[:255]
    group.external_id = str(document.get("externalId") or "")[:255]
    group.attributes = document
    group.save()
    current = set(group.memberships.values_list("directory_user_id", flat=True))
    wanted = set(rows.values())
    group.memberships.filter(directory_user_id__in=current - wanted).delete()
    DirectoryMembership.objects.bulk_create(
        [
            DirectoryMembership(group=group, directory_user_id=pk)
            for pk in wanted - current
        ]
    )
    provisioning.group_members_reconcile(
        group=group, directory_user_ids=current ^ wanted
    )


@transaction.atomic
def group_create(ctx: Context, body: dict) -> tuple[int, dict]:
    document = _group_document(body)

    group = DirectoryGroup(directory=ctx.directory)
    _save_group(ctx, group, document)
    return 201, _one(
        ctx,
        _render_group(_group(ctx, str(group.scim_id)), ctx.base_url),
        GROUP_SCHEMA,
        (),
    )


def _current_group_document(group: DirectoryGroup) -> dict:
    document = dict(group.attributes or {})
    document["displayName"] = group.display_name
    members = group.memberships.select_related("directory_user").order_by("id")
    document["members"] = [{"value": str(m.directory_user.scim_id)} for m in members]
    return document


@transaction.atomic
def group_replace(ctx: Context, scim_id: str, body: dict) -> tuple[int, dict]:
    group = _group(ctx, scim_id, lock=True, members=False)
    document = _group_document(body)

    _save_group(ctx, group, document)
    return group_get(ctx, scim_id)


@transaction.atomic
def group_patch(ctx: Context, scim_id: str, body: dict) -> tuple[int, dict]:
    group = _group(ctx, scim_id, lock=True, members=False)
    _require_patch_schema(body)
    document = apply_patch(
        _current_group_document(group), body.get("Operations"), GROUP_SCHEMA, ()
    )
    if not str(document.get("displayName") or "").strip():
        raise ScimError(400, DISPLAY_NAME_REQUIRED, "invalidValue")

    _save_group(ctx, group, document)
    return group_get(ctx, scim_id)


@transaction.atomic
def group_delete(ctx: Context, scim_id: str) -> tuple[int, None]:
    group = _group(ctx, scim_id, lock=True, members=False)
    member_ids = list(group.memberships.values_list("directory_user_id", flat=True))
    in_scope = ctx.directory.scope_groups.filter(pk=group.pk).exists()

    group.delete()
    if in_scope:
        for directory_user in DirectoryUser.objects.filter(
            pk__in=member_ids
        ).select_related("directory", "user"):
            provisioning.directory_user_reconcile(directory_user=directory_user)
    return 204, None
