"""The one place that talks to python3-saml.

Settings are built per connection for every call, always strict, SHA-256, SHA-1
refused unless the connection accepts it. python3-saml leaves several checks to
the application; this module adds them next to its own:

- the Audience must be present and name the connection's SP entity ID (the
  library only compares it when present);
- the Destination, when present, and the bearer SubjectConfirmation's
  Recipient must equal the connection's ACS URL exactly (the library compares
  a prefix and a substring), with the URL built from `PUBLIC_BASE_URL`, never
  from request headers;
- a SubjectConfirmation bound to a request must agree with the Response's
  InResponseTo;
- documents with a DTD are refused before any parsing.

Binding a response to a live request and the once-only use of an assertion id
are the caller's (`sso.flows`), because they need the shared store.
"""

import base64
import binascii
import calendar
import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from os.path import dirname, join
from urllib.parse import urlsplit

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2 import xml_utils
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from progression.errors import ProgressionError

MAX_RESPONSE_BYTES = 256 * 1024

# Reasons a response is refused; stable codes stored on login attempts.
REASONS = {
    "response_missing": "The identity provider sent no SAML response.",
    "response_malformed": "The SAML response is not valid base64-encoded XML.",
    "response_too_large": "The SAML response is too large.",
    "xml_dtd": "The SAML response contains a DTD, which is never accepted.",
    "invalid_xml": "The SAML response does not match the SAML schema.",
    "status_not_success": "The identity provider answered with an error status.",
    "unsigned": "Neither the response nor the assertion is signed.",
    "signature_invalid": "The signature does not match any certificate of this "
    "connection.",
    "sha1_refused": "The identity provider signed with SHA-1. Switch it to "
    "RSA-SHA256, or accept SHA-1 on this connection.",
    "wrong_audience": "The assertion is meant for another service provider "
    "(wrong audience).",
    "audience_missing": "The assertion names no audience.",
    "wrong_destination": "The response was addressed to another URL (destination).",
    "wrong_recipient": "The assertion was addressed to another URL (recipient).",
    "wrong_issuer": "The response comes from another identity provider (issuer).",
    "expired": "The assertion has expired or is not yet valid.",
    "wrong_in_response_to": "The response answers another sign-in request.",
    "wrong_number_of_assertions": "The response must carry exactly one assertion.",
    "decryption_failed": "The encrypted assertion cannot be decrypted with this "
    "connection's SP key.",
    "not_configured": "This connection has no IdP certificate or sign-in URL yet.",
    "unknown_request": "The response answers a sign-in request we did not "
    "send, or one that expired. Start the sign-in again.",
    "request_used": "That sign-in request was already answered.",
    "unsolicited": "This connection does not accept sign-ins started at the "
    "identity provider. Start from Progression's sign-in page.",
    "replayed": "That assertion was already used.",
    "invalid": "The SAML response was refused.",
}

# python3-saml's validation error codes, mapped onto ours.
_E = OneLogin_Saml2_ValidationError
_LIBRARY_CODES = {
    _E.INVALID_XML_FORMAT: "invalid_xml",
    _E.STATUS_CODE_IS_NOT_SUCCESS: "status_not_success",
    _E.MISSING_STATUS: "status_not_success",
    _E.MISSING_STATUS_CODE: "status_not_success",
    _E.NO_SIGNATURE_FOUND: "unsigned",
    _E.INVALID_SIGNATURE: "signature_invalid",
    _E.DEPRECATED_SIGNATURE_METHOD: "sha1_refused",
    _E.DEPRECATED_DIGEST_METHOD: "sha1_refused",
    _E.WRONG_AUDIENCE: "wrong_audience",
    _E.WRONG_DESTINATION: "wrong_destination",
    _E.EMPTY_DESTINATION: "wrong_destination",
    _E.WRONG_ISSUER: "wrong_issuer",
    _E.ISSUER_NOT_FOUND_IN_ASSERTION: "wrong_issuer",
    _E.ISSUER_MULTIPLE_IN_RESPONSE: "wrong_issuer",
    _E.ASSERTION_EXPIRED: "expired",
    _E.ASSERTION_TOO_EARLY: "expired",
    _E.SESSION_EXPIRED: "expired",
    _E.RESPONSE_EXPIRED: "expired",
    _E.WRONG_SUBJECTCONFIRMATION: "wrong_recipient",
    _E.WRONG_INRESPONSETO: "wrong_in_response_to",
    _E.WRONG_NUMBER_OF_ASSERTIONS: "wrong_number_of_assertions",
}


class SamlRejectedError(ProgressionError):
    """A SAML message we refuse; `code` is one of `REASONS`."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(REASONS.get(code, REASONS["invalid"]), code=code)
        self.detail = detail[:500]


@dataclass(frozen=True)
class Assertion:
    """What a validated response says, read only from signed parts."""

    issuer: str
    name_id: str
    name_id_format: str
    attributes: dict
    assertion_id: str
    not_on_or_after: dt.datetime | None
    in_response_to: str | None
    session_index: str | None


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
CERT_INVALID = "That is not a PEM or base64 X.509 certificate."


# python3-saml reads and compiles the SAML XSD files again for every message,
# which is most of its cost; the compiled schema is the same each time, so it
# is kept (per thread: lxml validators are not shared across threads).
_schemas = threading.local()
_SCHEMA_DIR = dirname(xml_utils.__file__)


def _validate_xml_cached(xml, schema, debug=False):
    try:
        xml = xml_utils.OneLogin_Saml2_XML.to_etree(xml)
    except Exception:  # noqa: BLE001 - the library's contract is a result code
        return "unloaded_xml"
    cache = getattr(_schemas, "by_name", None)
    if cache is None:
        cache = _schemas.by_name = {}
    validator = cache.get(schema)
    if validator is None:
        with open(join(_SCHEMA_DIR, "schemas", schema), "rb") as handle:
            validator = cache[schema] = etree.XMLSchema(etree.parse(handle))
    if not validator.validate(xml):
        return "invalid_xml"
    return xml


# The library's own, kept so a benchmark can compare against it.
_library_validate_xml = xml_utils.OneLogin_Saml2_XML.validate_xml
xml_utils.OneLogin_Saml2_XML.validate_xml = staticmethod(_validate_xml_cached)


# The library also compiles each of its few dozen XPath expressions again on
# every use; compiled once (per thread), they give the same answers.
def _query_cached(dom, query, context=None, tagid=None):
    cache = getattr(_schemas, "xpaths", None)
    if cache is None:
        cache = _schemas.xpaths = {}
    compiled = cache.get(query)
    if compiled is None:
        compiled = cache[query] = etree.XPath(query, namespaces=Constants.NSMAP)
    source = dom if context is None else context
    if tagid is None:
        return compiled(source)
    return compiled(source, tagid=tagid)


xml_utils.OneLogin_Saml2_XML.query = staticmethod(_query_cached)


# Timestamps: the library tries strptime formats in turn; the common shape is
# read directly and anything else still goes to the library.
_TIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?Z$")
_library_parse_time = OneLogin_Saml2_Utils.parse_SAML_to_time


def _parse_time(timestr):
    match = _TIME_RE.match(timestr or "")
    if match is None:
        return _library_parse_time(timestr)
    return calendar.timegm(tuple(int(part) for part in match.groups()) + (0, 0, 0))


OneLogin_Saml2_Utils.parse_SAML_to_time = staticmethod(_parse_time)


# Signature checks: the library parses the certificate into a key for every
# signature; the key of a certificate is kept (xmlsec copies it into each
# context). Certificate-chain validation, which we never ask for, stays with
# the library.
_library_validate_node_sign = OneLogin_Saml2_Utils.validate_node_sign


@lru_cache(maxsize=256)
def _verification_key(cert: str):
    return xmlsec.Key.from_memory(cert, xmlsec.KeyFormat.CERT_PEM, None)


def _validate_node_sign(
    signature_node,
    elem,
    cert=None,
    fingerprint=None,
    fingerprintalg="sha1",
    validatecert=False,
    debug=False,
    raise_exceptions=False,
):
    if validatecert or not cert:
        return _library_validate_node_sign(
            signature_node,
            elem,
            cert,
            fingerprint,
            fingerprintalg,
            validatecert,
            debug,
            raise_exceptions=raise_exceptions,
        )
    context = xmlsec.SignatureContext()
    context.key = _verification_key(cert)
    context.set_enabled_key_data([xmlsec.KeyData.X509])
    try:
        context.verify(signature_node)
    except xmlsec.Error as exc:
        if raise_exceptions:
            raise OneLogin_Saml2_ValidationError(
                "Signature validation failed. SAML Response rejected. %s",
                OneLogin_Saml2_ValidationError.INVALID_SIGNATURE,
                str(exc),
            ) from exc
        return False
    return True


OneLogin_Saml2_Utils.validate_node_sign = staticmethod(_validate_node_sign)


def _public_request_data(url: str, *, post: dict | None = None, get=None) -> dict:
    """Describe a request to python3-saml by our public URL, not by its headers.

    Behind proxies the Host and scheme a process sees are not the ones the IdP
    used; the ACS URL under `PUBLIC_BASE_URL` is the only one that counts.
    """
    parts = urlsplit(url)
    return {
        "https": "on" if parts.scheme == "https" else "off",
        "http_host": parts.netloc,
        "script_name": parts.path,
        "get_data": get or {},
        "post_data": post or {},
    }


def _settings_dict(connection) -> dict:
    certs = [c.pem for c in connection.certificates.all()]
    idp = {
        "entityId": connection.idp_entity_id,
        "singleSignOnService": {
            "url": connection.sso_url,
            "binding": Constants.BINDING_HTTP_REDIRECT,
        },
        "x509certMulti": {"signing": certs, "encryption": []},
    }
    if connection.slo_url:
        idp["singleLogoutService"] = {
            "url": connection.slo_url,
            "binding": Constants.BINDING_HTTP_REDIRECT,
        }
    has_key = bool(connection.sp_certificate and connection.sp_private_key)
    sha1 = connection.allow_sha1
    return {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": connection.sp_entity_id,
            "assertionConsumerService": {
                "url": connection.acs_url,
                "binding": Constants.BINDING_HTTP_POST,
            },
            "singleLogoutService": {
                "url": connection.slo_return_url,
                "binding": Constants.BINDING_HTTP_REDIRECT,
            },
            "NameIDFormat": Constants.NAMEID_UNSPECIFIED,
            "x509cert": connection.sp_certificate if has_key else "",
            "privateKey": connection.sp_private_key if has_key else "",
        },
        "idp": idp,
        "security": {
            "authnRequestsSigned": has_key,
            "logoutRequestSigned": has_key,
            "logoutResponseSigned": has_key,
            "signMetadata": False,
            "wantMessagesSigned": False,
            "wantAssertionsSigned": False,
            "wantAssertionsEncrypted": False,
            "wantNameId": False,
            "wantNameIdEncrypted": False,
            "wantAttributeStatement": False,
            "allowRepeatAttributeName": True,
            "requestedAuthnContext": False,
            "rejectDeprecatedAlgorithm": not sha1,
            "signatureAlgorithm": Constants.RSA_SHA256,
            "digestAlgorithm": Constants.SHA256,
        },
    }


_SETTINGS_CACHE_SIZE = 256
_settings_cache: dict = {}
_settings_lock = threading.Lock()


def _settings(connection, *, sp_only: bool = False) -> OneLogin_Saml2_Settings:
    """python3-saml's settings for a connection, built once per version of it.

    Building them parses every certificate; the key holds everything they are
    made of, so any change to the connection or its certificates builds anew.
    """
    certificates = tuple(
        (c.pk, c.fingerprint_sha256) for c in connection.certificates.all()
    )
    key = (
        connection.pk,
        connection.updated_at,
        certificates,
        connection.acs_url,
        sp_only,
    )
    cached = _settings_cache.get(key)
    if cached is not None:
        return cached
    built = OneLogin_Saml2_Settings(
        _settings_dict(connection), sp_validation_only=sp_only
    )
    with _settings_lock:
        if len(_settings_cache) >= _SETTINGS_CACHE_SIZE:
            _settings_cache.clear()
        _settings_cache[key] = built
    return built


def sp_metadata_xml(connection) -> str:
    """The SP metadata for a connection: entity ID, ACS, SLO and SP certificate."""
    metadata = _settings(connection, sp_only=True).get_sp_metadata()
    return metadata.decode() if isinstance(metadata, bytes) else metadata


def authn_request_url(connection, *, relay_state: str = "") -> tuple[str, str]:
    """The HTTP-Redirect URL that starts a sign-in, and the request's id."""
    if not connection.sso_url or not connection.certificates.exists():
        raise SamlRejectedError("not_configured")
    auth = OneLogin_Saml2_Auth(
        _public_request_data(connection.login_url), _settings_dict(connection)
    )
    url = auth.login(return_to=relay_state or None)
    return url, auth.get_last_request_id()


def logout_request_url(connection, *, name_id: str, session_index: str) -> str:
    """The HTTP-Redirect URL of a LogoutRequest to the IdP, for single logout."""
    auth = OneLogin_Saml2_Auth(
        _public_request_data(connection.slo_return_url), _settings_dict(connection)
    )
    return auth.logout(
        return_to=None, name_id=name_id or None, session_index=session_index or None
    )


def _decode(saml_response: str) -> bytes:
    if not saml_response:
        raise SamlRejectedError("response_missing")
    if len(saml_response) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise SamlRejectedError("response_too_large")
    try:
        xml = base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise SamlRejectedError("response_malformed") from exc
    # A DTD can declare entities that expand or reach out; SAML needs none.
    if b"<!DOCTYPE" in xml.upper() or b"<!ENTITY" in xml.upper():
        raise SamlRejectedError("xml_dtd")
    return xml


class ResponseCheck:
    """A posted SAMLResponse for one connection, parsed but not yet trusted."""

    def __init__(self, connection, saml_response: str):
        self.connection = connection
        _decode(saml_response)
        if not connection.idp_entity_id or not connection.certificates.all():
            raise SamlRejectedError("not_configured")
        self._settings = _settings(connection)
        try:
            self._response = OneLogin_Saml2_Response(self._settings, saml_response)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a refusal
            code = "decryption_failed" if "decrypt" in str(exc).lower() else ""
            raise SamlRejectedError(code or "response_malformed", str(exc)) from exc

    @property
    def in_response_to(self) -> str | None:
        """The request this response claims to answer: unverified until valid."""
        return self._response.get_in_response_to()

    @property
    def issuer(self) -> str:
        try:
            issuers = self._response.get_issuers()
        except Exception:  # noqa: BLE001 - only used to describe a refusal
            return ""
        return issuers[0] if issuers else ""

    def validate(self, *, request_id: str | None) -> Assertion:
        """Validate fully or raise `SamlRejectedError`; return what was asserted."""
        acs_url = self.connection.acs_url
        response = self._response
        request_data = _public_request_data(acs_url)
        try:
            response.is_valid(
                request_data, request_id=request_id, raise_exceptions=True
            )
        except OneLogin_Saml2_ValidationError as exc:
            code = _LIBRARY_CODES.get(exc.code, "invalid")
            raise SamlRejectedError(code, str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - xmlsec and lxml raise many kinds
            code = "xml_dtd" if "dtd" in str(exc).lower() else "invalid"
            raise SamlRejectedError(code, str(exc)) from exc
        self._check_audience(response)
        self._check_addresses(response, acs_url)
        return Assertion(
            issuer=self.issuer,
            name_id=response.get_nameid() or "",
            name_id_format=response.get_nameid_format() or "",
            attributes=response.get_attributes(),
            assertion_id=response.get_assertion_id() or "",
            not_on_or_after=_as_datetime(
                response.get_assertion_not_on_or_after()
                or response.valid_scd_not_on_or_after
            ),
            in_response_to=response.get_in_response_to(),
            session_index=response.get_session_index(),
        )

    def _check_audience(self, response) -> None:
        audiences = response.get_audiences()
        if not audiences:
            raise SamlRejectedError("audience_missing")
        if self.connection.sp_entity_id not in audiences:
            raise SamlRejectedError("wrong_audience")

    def _check_addresses(self, response, acs_url: str) -> None:
        destination = response.document.get("Destination")
        if destination is not None and destination != acs_url:
            raise SamlRejectedError("wrong_destination")
        # The library accepted at least one bearer confirmation; the first one
        # still in time must also name our ACS exactly and, if it is bound to a
        # request, the same request as the Response.
        in_response_to = response.get_in_response_to()
        now = OneLogin_Saml2_Utils.now()
        nodes = response._query_assertion(  # noqa: SLF001 - signed-part query
            f"/saml:Subject/saml:SubjectConfirmation[@Method='{Constants.CM_BEARER}']"
            "/saml:SubjectConfirmationData"
        )
        for node in nodes:
            not_on_or_after = node.get("NotOnOrAfter")
            if (
                not_on_or_after
                and OneLogin_Saml2_Utils.parse_SAML_to_time(not_on_or_after) <= now
            ):
                continue
            if node.get("Recipient") != acs_url:
                continue
            bound = node.get("InResponseTo")
            if bound is not None and bound != in_response_to:
                raise SamlRejectedError("wrong_in_response_to")
            return
        raise SamlRejectedError("wrong_recipient")


def _as_datetime(timestamp) -> dt.datetime | None:
    if not timestamp:
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


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


@dataclass(frozen=True)
class CertificateInfo:
    pem: str
    fingerprint_sha256: str
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime


def certificate_pem(text: str) -> str:
    """Normalise a certificate given as PEM or bare base64 into PEM."""
    return OneLogin_Saml2_Utils.format_cert(
        "".join(
            line for line in (text or "").strip().splitlines() if "-----" not in line
        ).replace(" ", ""),
        heads=True,
    ).strip()


def certificate_info(text: str) -> CertificateInfo:
    try:
        pem = certificate_pem(text)
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise ProgressionError(CERT_INVALID, code="certificate_invalid") from exc
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return CertificateInfo(
        pem=pem,
        fingerprint_sha256=":".join(digest[i : i + 2] for i in range(0, 64, 2)).upper(),
        subject=cert.subject.rfc4514_string()[:500],
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def keypair_generate(*, common_name: str, days: int = 3650) -> tuple[str, str]:
    """A new RSA-2048 key and self-signed certificate, as (cert PEM, key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return cert_pem, key_pem
