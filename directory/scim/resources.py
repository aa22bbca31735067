"""Directory users and groups as SCIM resources, and back into provisioning records."""

from typing import Any

from directory.models import DirectoryGroup, DirectoryUser
from directory.provisioning import Record
from directory.scim.documents.values import coerce_boolean
from directory.scim.schemas import ENTERPRISE, GROUP, USER


def _timestamp(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _meta(resource_type: str, location: str, row) -> dict:
    return {
        "resourceType": resource_type,
        "created": _timestamp(row.created_at),
        "lastModified": _timestamp(row.updated_at),
        "location": location,
        "version": f'W/"{int(row.updated_at.timestamp() * 1_000_000)}"',
    }


def primary_email(document: dict) -> str:
    """The address that counts: the primary one, else a work one, else the first."""
    emails = [e for e in document.get("emails") or [] if e.get("value")]
    for choose in (
        lambda e: e.get("primary") is True,
        lambda e: str(e.get("type", "")).lower() == "work",
        lambda e: True,
    ):
        for email in emails:
            if choose(email):
                return str(email["value"])
    return ""


def _manager_ref(extension: dict) -> str:
    manager = extension.get("manager")
    if isinstance(manager, dict):
        return str(manager.get("value") or manager.get("managerId") or "")
    return "" if manager is None else str(manager)


def user_record(document: dict, *, active_default: bool = True) -> Record:
    """Read the normalised fields of a user document for the provisioning rules."""
    name = document.get("name") or {}
    extension = document.get(ENTERPRISE) or {}
    active = document.get("active")
    return Record(
        user_name=str(document.get("userName") or ""),
        email=primary_email(document),
        first_name=str(name.get("givenName") or ""),
        last_name=str(name.get("familyName") or ""),
        active=active_default if active is None else coerce_boolean(active, "active"),
        external_id=str(document.get("externalId") or ""),
        manager_ref=_manager_ref(extension),
        department=str(extension.get("department") or ""),
        title=str(document.get("title") or ""),
        attributes=document,
    )


def user_resource(
    directory_user: DirectoryUser, base_url: str, *, memberships=None
) -> dict[str, Any]:
    """Render a directory user as a SCIM 2.0 User.

    `memberships` spares a query when the caller knows them (a new user has
    none); otherwise the prefetched or queried memberships are used.
    """
    if memberships is None:
        memberships = directory_user.memberships.all()
    document = dict(directory_user.attributes or {})
    extension = document.pop(ENTERPRISE, None)
    document.pop("password", None)
    resource: dict[str, Any] = {
        "schemas": [USER] + ([ENTERPRISE] if extension else []),
        "id": str(directory_user.scim_id),
        **document,
        "userName": directory_user.user_name,
    }
    if "active" in document:
        # Absent when the client removed it; the person then stays as they were.
        resource["active"] = directory_user.active
    if directory_user.external_id:
        resource["externalId"] = directory_user.external_id
    if extension:
        resource[ENTERPRISE] = extension
    groups = [
        {
            "value": str(membership.group.scim_id),
            "display": membership.group.display_name,
            "$ref": f"{base_url}/Groups/{membership.group.scim_id}",
            "type": "direct",
        }
        for membership in memberships
    ]
    if groups:
        resource["groups"] = groups
    resource["meta"] = _meta(
        "User", f"{base_url}/Users/{directory_user.scim_id}", directory_user
    )
    return resource


def group_resource(
    group: DirectoryGroup, base_url: str, *, members: bool = True
) -> dict[str, Any]:
    """Render a directory group as a SCIM 2.0 Group, with its members or not."""
    resource: dict[str, Any] = {
        "schemas": [GROUP],
        "id": str(group.scim_id),
        "displayName": group.display_name,
    }
    if group.external_id:
        resource["externalId"] = group.external_id
    if members:
        resource["members"] = [
            {
                "value": str(membership.directory_user.scim_id),
                "$ref": f"{base_url}/Users/{membership.directory_user.scim_id}",
                "type": "User",
            }
            for membership in group.memberships.all()
        ]
    resource["meta"] = _meta("Group", f"{base_url}/Groups/{group.scim_id}", group)
    return resource
