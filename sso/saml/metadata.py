"""Reading an IdP's metadata: entity ID, sign-in URLs, signing certificates."""

from dataclasses import dataclass, field

from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from progression.errors import ProgressionError
from sso.saml.certificates import certificate_pem


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_url: str
    slo_url: str
    certificates: list = field(default_factory=list)


class MetadataInvalidError(ProgressionError):
    code = "metadata_invalid"


METADATA_INVALID = "That is not SAML IdP metadata we can read: %s"
METADATA_NO_SSO = "The metadata names no HTTP-Redirect sign-in URL."
METADATA_NO_CERT = "The metadata has no signing certificate."


def parse_idp_metadata(xml: str | bytes, *, entity_id: str = "") -> IdpMetadata:
    """Read an IdP's entity ID, sign-in URLs and signing certificates."""
    data = xml.encode() if isinstance(xml, str) else xml
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise MetadataInvalidError(METADATA_INVALID % "it contains a DTD.")
    if entity_id and ('"' in entity_id or "'" in entity_id):
        raise MetadataInvalidError(METADATA_INVALID % "the entity ID has quotes.")
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            data,
            entity_id=entity_id or None,
            required_sso_binding=Constants.BINDING_HTTP_REDIRECT,
            required_slo_binding=Constants.BINDING_HTTP_REDIRECT,
        )
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds
        raise MetadataInvalidError(METADATA_INVALID % exc) from exc
    idp = parsed.get("idp") or {}
    if not idp.get("entityId"):
        raise MetadataInvalidError(METADATA_INVALID % "no IdP entity ID found.")
    sso_url = (idp.get("singleSignOnService") or {}).get("url", "")
    if not sso_url:
        raise MetadataInvalidError(METADATA_NO_SSO)
    certs = []
    if idp.get("x509cert"):
        certs.append(idp["x509cert"])
    multi = idp.get("x509certMulti") or {}
    certs.extend(multi.get("signing", []))
    pems = []
    for cert in certs:
        pem = certificate_pem(cert)
        if pem not in pems:
            pems.append(pem)
    if not pems:
        raise MetadataInvalidError(METADATA_NO_CERT)
    return IdpMetadata(
        entity_id=idp["entityId"],
        sso_url=sso_url,
        slo_url=(idp.get("singleLogoutService") or {}).get("url", ""),
        certificates=pems,
    )
