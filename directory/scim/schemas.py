"""SCIM 2.0 schema URNs and the discovery documents (RFC 7643 §5-8, RFC 7644 §4).

The schema definitions here are also the server's own description of what it
stores: attribute names are matched case-insensitively against them, booleans
are coerced according to them, and responses carry only what they declare.
"""

from dataclasses import dataclass, field

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

MAX_RESULTS = 200
MAX_PAYLOAD_BYTES = 1_048_576


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple["Attribute", ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""

    def sub(self, name: str) -> "Attribute | None":
        lowered = name.lower()
        for attribute in self.sub_attributes:
            if attribute.name.lower() == lowered:
                return attribute
        return None

    def as_dict(self) -> dict:
        data = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description or self.name,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.canonical_values:
            data["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            data["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            data["subAttributes"] = [a.as_dict() for a in self.sub_attributes]
        return data


@dataclass(frozen=True)
class Schema:
    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)

    def attribute(self, name: str) -> Attribute | None:
        lowered = name.lower()
        for attribute in self.attributes:
            if attribute.name.lower() == lowered:
                return attribute
        if lowered == "externalid" and self.id in (USER, GROUP):
            # A common attribute (RFC 7643 §3.1): in every resource, in no schema.
            return EXTERNAL_ID
        return None


EXTERNAL_ID = Attribute("externalId", case_exact=True)


def _multi(name: str, *, types: tuple[str, ...] = ("work", "home", "other")):
    """A multi-valued attribute of the usual value/display/type/primary shape."""
    return Attribute(
        name,
        "complex",
        multi_valued=True,
        sub_attributes=(
            Attribute("value"),
            Attribute("display"),
            Attribute("type", canonical_values=types),
            Attribute("primary", "boolean"),
        ),
    )


USER_SCHEMA = Schema(
    USER,
    "User",
    "User Account",
    (
        Attribute(
            "userName", required=True, uniqueness="server", description="Unique id"
        ),
        Attribute(
            "name",
            "complex",
            sub_attributes=(
                Attribute("formatted"),
                Attribute("familyName"),
                Attribute("givenName"),
                Attribute("middleName"),
                Attribute("honorificPrefix"),
                Attribute("honorificSuffix"),
            ),
        ),
        Attribute("displayName"),
        Attribute("nickName"),
        Attribute("profileUrl", "reference", reference_types=("external",)),
        Attribute("title"),
        Attribute("userType"),
        Attribute("preferredLanguage"),
        Attribute("locale"),
        Attribute("timezone"),
        Attribute("active", "boolean"),
        Attribute(
            "password", mutability="writeOnly", returned="never", case_exact=True
        ),
        _multi("emails"),
        _multi("phoneNumbers", types=("work", "home", "mobile", "fax", "other")),
        _multi("ims", types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq")),
        _multi("photos", types=("photo", "thumbnail")),
        Attribute(
            "addresses",
            "complex",
            multi_valued=True,
            sub_attributes=(
                Attribute("formatted"),
                Attribute("streetAddress"),
                Attribute("locality"),
                Attribute("region"),
                Attribute("postalCode"),
                Attribute("country"),
                Attribute("type", canonical_values=("work", "home", "other")),
                Attribute("primary", "boolean"),
            ),
        ),
        Attribute(
            "groups",
            "complex",
            multi_valued=True,
            mutability="readOnly",
            sub_attributes=(
                Attribute("value", mutability="readOnly"),
                Attribute(
                    "$ref",
                    "reference",
                    mutability="readOnly",
                    reference_types=("User", "Group"),
                ),
                Attribute("display", mutability="readOnly"),
                Attribute(
                    "type",
                    mutability="readOnly",
                    canonical_values=("direct", "indirect"),
                ),
            ),
        ),
        _multi("entitlements", types=()),
        _multi("roles", types=()),
    ),
)

ENTERPRISE_SCHEMA = Schema(
    ENTERPRISE,
    "EnterpriseUser",
    "Enterprise User",
    (
        Attribute("employeeNumber"),
        Attribute("costCenter"),
        Attribute("organization"),
        Attribute("division"),
        Attribute("department"),
        Attribute(
            "manager",
            "complex",
            sub_attributes=(
                Attribute("value"),
                Attribute("$ref", "reference", reference_types=("User",)),
                Attribute("displayName", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP_SCHEMA = Schema(
    GROUP,
    "Group",
    "Group",
    (
        Attribute("displayName", required=True),
        Attribute(
            "members",
            "complex",
            multi_valued=True,
            sub_attributes=(
                Attribute("value", mutability="immutable"),
                Attribute(
                    "$ref",
                    "reference",
                    mutability="immutable",
                    reference_types=("User", "Group"),
                ),
                Attribute("display", mutability="readOnly"),
                Attribute(
                    "type", mutability="immutable", canonical_values=("User", "Group")
                ),
            ),
        ),
    ),
)

SCHEMAS = {s.id: s for s in (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_SCHEMA)}

# Attributes the server owns; a client cannot set them.
READ_ONLY = frozenset({"id", "meta", "schemas"})


def _meta(resource_type: str, location: str) -> dict:
    return {"resourceType": resource_type, "location": location}


def schema_documents(base_url: str) -> list[dict]:
    return [
        {
            "schemas": [SCHEMA],
            "id": s.id,
            "name": s.name,
            "description": s.description,
            "attributes": [a.as_dict() for a in s.attributes],
            "meta": _meta("Schema", f"{base_url}/Schemas/{s.id}"),
        }
        for s in SCHEMAS.values()
    ]


def resource_type_documents(base_url: str) -> list[dict]:
    return [
        {
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
            "meta": _meta("ResourceType", f"{base_url}/ResourceTypes/User"),
        },
        {
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": GROUP,
            "schemaExtensions": [],
            "meta": _meta("ResourceType", f"{base_url}/ResourceTypes/Group"),
        },
    ]


def service_provider_config(base_url: str, documentation_uri: str) -> dict:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": documentation_uri,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "The directory's bearer token, from the portal.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "documentationUri": documentation_uri,
                "primary": True,
            }
        ],
        "meta": _meta("ServiceProviderConfig", f"{base_url}/ServiceProviderConfig"),
    }
