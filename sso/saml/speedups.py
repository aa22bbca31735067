"""python3-saml's slow spots, replaced by equivalents that give the same answers.

Imported for its effect by `sso.saml`; `library_as_shipped` undoes it for the
length of a `with` block, for the benchmark that compares the two.
"""

import calendar
import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from os.path import dirname, join

import xmlsec
from lxml import etree
from onelogin.saml2 import xml_utils
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.utils import OneLogin_Saml2_Utils

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


_library_query = xml_utils.OneLogin_Saml2_XML.query
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

_LIBRARY_ORIGINALS = [
    (xml_utils.OneLogin_Saml2_XML, "validate_xml", _library_validate_xml),
    (xml_utils.OneLogin_Saml2_XML, "query", _library_query),
    (OneLogin_Saml2_Utils, "parse_SAML_to_time", _library_parse_time),
    (OneLogin_Saml2_Utils, "validate_node_sign", _library_validate_node_sign),
]


@contextmanager
def library_as_shipped():
    """Run python3-saml without the speed-ups above (for the benchmark)."""
    ours = [
        (owner, name, owner.__dict__[name]) for owner, name, _ in _LIBRARY_ORIGINALS
    ]
    for owner, name, original in _LIBRARY_ORIGINALS:
        setattr(owner, name, staticmethod(original))
    try:
        yield
    finally:
        for owner, name, patched in ours:
            setattr(owner, name, patched)
