"""The speed-ups give python3-saml's own answers, valid or not."""

import base64

import pytest
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from sso import saml
from sso.saml.speedups import _parse_time
from tests.sso.builder import Shape, build_response
from tests.sso.test_saml import make_connection


def _outcome(connection, encoded):
    settings = OneLogin_Saml2_Settings(saml._settings_dict(connection))
    response = OneLogin_Saml2_Response(settings, encoded)
    request_data = saml._public_request_data(connection.acs_url)
    try:
        response.is_valid(request_data, raise_exceptions=True)
    except Exception as exc:  # noqa: BLE001 - compare whatever was raised
        return type(exc).__name__, getattr(exc, "code", None)
    return "valid", response.get_attributes()


def _tampered(encoded):
    xml = base64.b64decode(encoded).replace(b"ada@acme.example", b"eve@acme.example")
    return base64.b64encode(xml).decode()


@pytest.mark.parametrize(
    "variant", ["valid", "both", "tampered", "sha1", "no_signature", "wrong_cert"]
)
def test_speedups_answer_as_the_library_does(settings, entitled, variant):
    settings.PUBLIC_BASE_URL = "https://progression.example"
    connection = make_connection(entitled)
    shape = Shape(
        sign_response=variant == "both",
        sign_assertion=variant != "no_signature",
        attributes={"email": "ada@acme.example"},
    )
    encoded = build_response(
        issuer=connection.idp_entity_id,
        audience=connection.sp_entity_id,
        acs_url=connection.acs_url,
        name_id="ada@acme.example",
        shape=shape,
        signature_algorithm="sha1" if variant == "sha1" else "sha256",
        key="other" if variant == "wrong_cert" else "builder",
    )
    if variant == "tampered":
        encoded = _tampered(encoded)

    ours = _outcome(connection, encoded)
    with saml.library_as_shipped():
        shipped = _outcome(connection, encoded)

    assert ours == shipped
    assert (ours[0] == "valid") is (variant in {"valid", "both"})


@pytest.mark.parametrize(
    "stamp",
    ["2026-12-03T12:00:00Z", "2026-12-03T12:00:00.123456Z", "2026-02-28T23:59:59Z"],
)
def test_parse_time_matches_the_library(stamp):
    with saml.library_as_shipped():
        expected = OneLogin_Saml2_Utils.parse_SAML_to_time(stamp)

    assert _parse_time(stamp) == expected
