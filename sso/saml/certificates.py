"""X.509 certificates: IdP signing certificates and our SP key pairs."""

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from progression.errors import ProgressionError

CERT_INVALID = "That is not a PEM or base64 X.509 certificate."


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
