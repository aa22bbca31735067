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
are the caller's (`sso.flows`), because they need the shared store. Single
logout messages are checked in `sso.saml.logout`.
"""

from sso.saml import speedups
from sso.saml.certificates import (
    CERT_INVALID,
    CertificateInfo,
    certificate_info,
    certificate_pem,
    keypair_generate,
)
from sso.saml.logout import (
    LOGOUT_REQUEST_TTL,
    LogoutRequest,
    logout_request_check,
    logout_request_url,
    logout_response_check,
    logout_response_url,
)
from sso.saml.metadata import (
    METADATA_INVALID,
    METADATA_NO_CERT,
    METADATA_NO_SSO,
    IdpMetadata,
    MetadataInvalidError,
    parse_idp_metadata,
)
from sso.saml.response import (
    MAX_RESPONSE_BYTES,
    REASONS,
    Assertion,
    ResponseCheck,
    SamlRejectedError,
    _public_request_data,
    _settings,
    _settings_dict,
    authn_request_url,
    sp_metadata_xml,
)
from sso.saml.speedups import library_as_shipped

__all__ = [
    "CERT_INVALID",
    "LOGOUT_REQUEST_TTL",
    "MAX_RESPONSE_BYTES",
    "METADATA_INVALID",
    "METADATA_NO_CERT",
    "METADATA_NO_SSO",
    "REASONS",
    "Assertion",
    "CertificateInfo",
    "IdpMetadata",
    "LogoutRequest",
    "MetadataInvalidError",
    "ResponseCheck",
    "SamlRejectedError",
    "_public_request_data",
    "_settings",
    "_settings_dict",
    "authn_request_url",
    "certificate_info",
    "certificate_pem",
    "keypair_generate",
    "library_as_shipped",
    "logout_request_check",
    "logout_request_url",
    "logout_response_check",
    "logout_response_url",
    "parse_idp_metadata",
    "sp_metadata_xml",
    "speedups",
]
