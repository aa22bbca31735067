"""SAML responses of our own making, signed with test keys, in the shapes real
IdPs send: where the signature sits, which NameID format, which attribute
names. Used where a test needs a shape SimpleSAMLphp does not produce."""

import base64
import datetime as dt
import uuid
import zlib
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import xmlsec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from tests.peers.simplesamlphp.idp import make_keypair

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NSMAP = {"samlp": SAMLP, "saml": SAML}
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

_KEYS: dict[str, tuple[str, str]] = {}


def signing_key(name: str = "builder") -> tuple[str, str]:
    """A signing certificate and key, made once per test session."""
    if name not in _KEYS:
        _KEYS[name] = make_keypair(f"Builder IdP {name}")
    return _KEYS[name]


def _time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Shape:
    """How one IdP shapes its responses."""

    sign_response: bool = False
    sign_assertion: bool = True
    name_id_format: str | None = EMAIL_FORMAT
    attributes: dict = field(default_factory=dict)
    attribute_name_format: str = ""


def request_id_from(login_url: str) -> str:
    """The ID of the AuthnRequest carried by an HTTP-Redirect URL."""
    encoded = parse_qs(urlsplit(login_url).query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(encoded), -15)
    return etree.fromstring(xml).get("ID")


def build_response(
    *,
    issuer: str,
    audience: str | None,
    acs_url: str,
    name_id: str,
    shape: Shape | None = None,
    in_response_to: str | None = None,
    destination: str | None = "",
    recipient: str | None = "",
    lifetime: int = 300,
    now: dt.datetime | None = None,
    key: str = "builder",
    signature_algorithm: str = "sha256",
) -> str:
    """A base64 SAMLResponse; `destination`/`recipient` "" means the ACS URL."""
    shape = shape or Shape()
    now = now or dt.datetime.now(dt.UTC)
    until = now + dt.timedelta(seconds=lifetime)
    response_id, assertion_id = f"_r{uuid.uuid4().hex}", f"_a{uuid.uuid4().hex}"
    destination = acs_url if destination == "" else destination
    recipient = acs_url if recipient == "" else recipient

    root = etree.Element(f"{{{SAMLP}}}Response", nsmap=NSMAP)
    root.set("ID", response_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", _time(now))
    if destination is not None:
        root.set("Destination", destination)
    if in_response_to:
        root.set("InResponseTo", in_response_to)
    etree.SubElement(root, f"{{{SAML}}}Issuer").text = issuer
    status = etree.SubElement(root, f"{{{SAMLP}}}Status")
    etree.SubElement(status, f"{{{SAMLP}}}StatusCode").set(
        "Value", "urn:oasis:names:tc:SAML:2.0:status:Success"
    )

    assertion = etree.SubElement(root, f"{{{SAML}}}Assertion")
    assertion.set("ID", assertion_id)
    assertion.set("Version", "2.0")
    assertion.set("IssueInstant", _time(now))
    etree.SubElement(assertion, f"{{{SAML}}}Issuer").text = issuer
    subject = etree.SubElement(assertion, f"{{{SAML}}}Subject")
    name = etree.SubElement(subject, f"{{{SAML}}}NameID")
    if shape.name_id_format:
        name.set("Format", shape.name_id_format)
    name.text = name_id
    confirmation = etree.SubElement(subject, f"{{{SAML}}}SubjectConfirmation")
    confirmation.set("Method", BEARER)
    data = etree.SubElement(confirmation, f"{{{SAML}}}SubjectConfirmationData")
    data.set("NotOnOrAfter", _time(until))
    if recipient is not None:
        data.set("Recipient", recipient)
    if in_response_to:
        data.set("InResponseTo", in_response_to)
    conditions = etree.SubElement(assertion, f"{{{SAML}}}Conditions")
    conditions.set("NotBefore", _time(now - dt.timedelta(seconds=30)))
    conditions.set("NotOnOrAfter", _time(until))
    if audience is not None:
        restriction = etree.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
        etree.SubElement(restriction, f"{{{SAML}}}Audience").text = audience
    statement = etree.SubElement(assertion, f"{{{SAML}}}AuthnStatement")
    statement.set("AuthnInstant", _time(now))
    statement.set("SessionIndex", f"_s{uuid.uuid4().hex}")
    context = etree.SubElement(statement, f"{{{SAML}}}AuthnContext")
    etree.SubElement(
        context, f"{{{SAML}}}AuthnContextClassRef"
    ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    if shape.attributes:
        attributes = etree.SubElement(assertion, f"{{{SAML}}}AttributeStatement")
        for attribute_name, values in shape.attributes.items():
            attribute = etree.SubElement(attributes, f"{{{SAML}}}Attribute")
            attribute.set("Name", attribute_name)
            if shape.attribute_name_format:
                attribute.set("NameFormat", shape.attribute_name_format)
            for value in values if isinstance(values, list) else [values]:
                etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value

    cert, private_key = signing_key(key)
    if shape.sign_assertion:
        _sign(assertion, cert, private_key, signature_algorithm)
    if shape.sign_response:
        _sign(root, cert, private_key, signature_algorithm)
    return base64.b64encode(etree.tostring(root)).decode()


def _sign(element, cert: str, private_key: str, algorithm: str) -> None:
    sign_method, digest_method = {
        "sha256": (
            xmlsec.constants.TransformRsaSha256,
            xmlsec.constants.TransformSha256,
        ),
        "sha1": (xmlsec.constants.TransformRsaSha1, xmlsec.constants.TransformSha1),
    }[algorithm]
    signature = xmlsec.template.create(
        element, xmlsec.constants.TransformExclC14N, sign_method, ns="ds"
    )
    # The signature goes right after the Issuer, as the schema wants.
    element.insert(1, signature)
    reference = xmlsec.template.add_reference(
        signature, digest_method, uri="#" + element.get("ID")
    )
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.add_x509_data(key_info)
    context = xmlsec.SignatureContext()
    key = xmlsec.Key.from_memory(private_key, xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(cert, xmlsec.constants.KeyDataFormatCertPem)
    context.key = key
    context.register_id(element, "ID")
    context.sign(signature)


def _redirect_url(url: str, kind: str, xml: bytes, key: str | None) -> str:
    """An HTTP-Redirect URL carrying `xml`, signed over its query with `key`."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    encoded = base64.b64encode(compressor.compress(xml) + compressor.flush())
    params = [(kind, encoded.decode())]
    if key is not None:
        params.append(("SigAlg", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"))
        signed = urlencode(params).encode()
        private_key = serialization.load_pem_private_key(
            signing_key(key)[1].encode(), password=None
        )
        signature = private_key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        params.append(("Signature", base64.b64encode(signature).decode()))
    return f"{url}?{urlencode(params)}"


def _logout_root(tag: str, *, issuer, destination, in_response_to=None, ago=0):
    root = etree.Element(f"{{{SAMLP}}}{tag}", nsmap=NSMAP)
    root.set("ID", f"_l{uuid.uuid4().hex}")
    root.set("Version", "2.0")
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=ago)
    root.set("IssueInstant", _time(issued))
    if destination is not None:
        root.set("Destination", destination)
    if in_response_to is not None:
        root.set("InResponseTo", in_response_to)
    if issuer is not None:
        etree.SubElement(root, f"{{{SAML}}}Issuer").text = issuer
    return root


def build_logout_request_url(
    *,
    sls_url: str,
    issuer: str | None,
    name_id: str,
    destination: str | None = "",
    session_index: str | None = None,
    lifetime: int | None = 300,
    issued_ago: int = 0,
    key: str | None = "builder",
) -> str:
    """An IdP's LogoutRequest to our SLS; `destination` "" means the SLS URL,
    `lifetime` None sends no NotOnOrAfter."""
    root = _logout_root(
        "LogoutRequest",
        issuer=issuer,
        destination=sls_url if destination == "" else destination,
        ago=issued_ago,
    )
    if lifetime is not None:
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime)
        root.set("NotOnOrAfter", _time(until))
    name = etree.SubElement(root, f"{{{SAML}}}NameID")
    name.set("Format", EMAIL_FORMAT)
    name.text = name_id
    if session_index is not None:
        etree.SubElement(root, f"{{{SAMLP}}}SessionIndex").text = session_index
    return _redirect_url(sls_url, "SAMLRequest", etree.tostring(root), key)


def build_logout_response_url(
    *,
    sls_url: str,
    issuer: str | None,
    in_response_to: str | None,
    destination: str | None = "",
    status: str = "urn:oasis:names:tc:SAML:2.0:status:Success",
    key: str | None = "builder",
) -> str:
    """An IdP's LogoutResponse to our SLS; `destination` "" means the SLS URL."""
    root = _logout_root(
        "LogoutResponse",
        issuer=issuer,
        destination=sls_url if destination == "" else destination,
        in_response_to=in_response_to,
    )
    status_element = etree.SubElement(root, f"{{{SAMLP}}}Status")
    code = etree.SubElement(status_element, f"{{{SAMLP}}}StatusCode")
    code.set("Value", status)
    return _redirect_url(sls_url, "SAMLResponse", etree.tostring(root), key)
