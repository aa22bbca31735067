"""Sign-in requests to the IdP and the checks on its responses."""

import base64
import binascii
import datetime as dt
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
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
    "logout_missing": "The identity provider sent no logout message.",
    "logout_malformed": "The logout message is not a readable SAML message.",
    "logout_unsigned": "The logout message is not signed; unsigned logout "
    "messages are never accepted.",
    "logout_unknown_request": "The logout answer names a logout we did not "
    "start, or one that expired or was already answered.",
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

    Building them parses every certificate. Every change to a connection or
    its certificates moves `updated_at` (see `sso.services`), so the key
    names one version; the certificates are read only when it is new.
    """
    key = (connection.pk, connection.updated_at, connection.acs_url, sp_only)
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


def _has_certificates(settings_object) -> bool:
    multi = settings_object.get_idp_data().get("x509certMulti") or {}
    return bool(multi.get("signing"))


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
        if not connection.idp_entity_id:
            raise SamlRejectedError("not_configured")
        self._settings = _settings(connection)
        if not _has_certificates(self._settings):
            raise SamlRejectedError("not_configured")
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
