"""SimpleSAMLphp as a real SAML IdP, run as one `php -S` process on loopback.

The configuration in this directory reads its changing parts from a state
directory: `users.json` (who can sign in), `sps.json` (the service providers
it knows, keyed by entity ID, with per-SP options such as
`saml20.sign.response`) and `cert/` (its signing keys). Both files are read
on every request, so registering an SP takes effect at once.
"""

import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
DOCROOT = Path("/usr/share/simplesamlphp/www")
PHP = shutil.which("php") or "/usr/bin/php"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_keypair(common_name: str, *, days: int = 365) -> tuple[str, str]:
    """A test signing key and its self-signed certificate, as PEM strings."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode(),
    )


class SimpleSamlIdp:
    """One running SimpleSAMLphp IdP with its own state directory."""

    def __init__(self, state_dir: Path, *, port: int | None = None, host="127.0.0.1"):
        self.state_dir = Path(state_dir)
        self.port = port or free_port()
        self.base_url = f"http://{host}:{self.port}/"
        self.process: subprocess.Popen | None = None
        self.keys: dict[str, tuple[str, str]] = {}

    # Paths the IdP publishes.
    @property
    def entity_id(self) -> str:
        return self.base_url + "saml2/idp/metadata.php"

    @property
    def metadata_url(self) -> str:
        return self.entity_id

    @property
    def sso_url(self) -> str:
        return self.base_url + "saml2/idp/SSOService.php"

    def idp_initiated_url(self, sp_entity_id: str, relay_state: str = "") -> str:
        query = {"spentityid": sp_entity_id}
        if relay_state:
            query["RelayState"] = relay_state
        return requests.Request("GET", self.sso_url, params=query).prepare().url

    @property
    def certificate(self) -> str:
        return self.keys["default"][0]

    def prepare(self) -> None:
        for sub in ("cert", "log", "data", "tmp", "sessions"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        for name in ("default", "next"):
            cert_file = self.state_dir / "cert" / f"idp-{name}.crt"
            key_file = self.state_dir / "cert" / f"idp-{name}.key"
            if not cert_file.exists():
                cert, key = make_keypair(f"Progression test IdP {name}")
                cert_file.write_text(cert)
                key_file.write_text(key)
            self.keys[name] = (cert_file.read_text(), key_file.read_text())
        shutil.copy(
            self.state_dir / "cert/idp-default.crt", self.state_dir / "cert/idp.crt"
        )
        shutil.copy(
            self.state_dir / "cert/idp-default.key", self.state_dir / "cert/idp.key"
        )
        for name, empty in (("users.json", []), ("sps.json", {})):
            path = self.state_dir / name
            if not path.exists():
                path.write_text(json.dumps(empty))

    def running(self) -> bool:
        try:
            return requests.get(self.metadata_url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start(self, *, log=None, detach: bool = False) -> "SimpleSamlIdp":
        """Start the IdP and wait for it; `detach` lets it outlive this process."""
        self.prepare()
        env = {
            **os.environ,
            "SIMPLESAMLPHP_CONFIG_DIR": str(HERE / "config"),
            "SSP_STATE_DIR": str(self.state_dir),
            "SSP_BASE_URL": self.base_url,
        }
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                PHP,
                "-d",
                "error_reporting=E_ALL & ~E_DEPRECATED",
                "-S",
                f"127.0.0.1:{self.port}",
                "-t",
                str(DOCROOT),
                str(HERE / "router.php"),
            ],
            env=env,
            stdout=log or subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
            start_new_session=detach,
        )
        if detach:
            (self.state_dir / "pid").write_text(str(self.process.pid))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.running():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("SimpleSAMLphp did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def set_users(self, users: list[dict]) -> None:
        """Replace who can sign in: dicts of username, password, attributes."""
        (self.state_dir / "users.json").write_text(json.dumps(users))

    def add_user(self, username, password, **attributes) -> None:
        users = json.loads((self.state_dir / "users.json").read_text())
        users = [u for u in users if u["username"] != username]
        users.append(
            {
                "username": username,
                "password": password,
                "attributes": {
                    k: v if isinstance(v, list) else [v] for k, v in attributes.items()
                },
            }
        )
        self.set_users(users)

    def register_sp(
        self,
        entity_id: str,
        acs_url: str,
        *,
        sign_response: bool = True,
        sign_assertion: bool = True,
        encrypt_certificate: str = "",
        signing_key: str = "default",
        sha1: bool = False,
        extra: dict | None = None,
    ) -> None:
        """Tell the IdP about one SP (one connection) and how to answer it."""
        sp = {
            "AssertionConsumerService": acs_url,
            "saml20.sign.response": sign_response,
            "saml20.sign.assertion": sign_assertion,
            "simplesaml.nameidattribute": "email",
        }
        if signing_key != "default":
            sp["signature.privatekey"] = f"idp-{signing_key}.key"
            sp["signature.certificate"] = f"idp-{signing_key}.crt"
        if sha1:
            sp["signature.algorithm"] = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        if encrypt_certificate:
            sp["assertion.encryption"] = True
            sp["certData"] = "".join(
                line
                for line in encrypt_certificate.strip().splitlines()
                if "-----" not in line
            )
        sp.update(extra or {})
        path = self.state_dir / "sps.json"
        sps = json.loads(path.read_text())
        sps[entity_id] = sp
        path.write_text(json.dumps(sps))


_FORM_RE = re.compile(r"<form[^>]*action=\"([^\"]+)\"", re.IGNORECASE)
_INPUT_RE = re.compile(r"<input[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(r"(\w+)=\"([^\"]*)\"")


def read_form(html: str, base_url: str) -> tuple[str, dict]:
    """The first form of a page: its absolute action and its hidden fields."""
    match = _FORM_RE.search(html)
    if match is None:
        raise AssertionError("no form on the page")
    fields = {}
    for tag in _INPUT_RE.findall(html):
        attributes = dict(_ATTR_RE.findall(tag))
        if attributes.get("type", "").lower() == "hidden" and "name" in attributes:
            fields[attributes["name"]] = unescape(attributes.get("value", ""))
    return urljoin(base_url, unescape(match.group(1))), fields


def idp_sign_in(session: requests.Session, url: str, username: str, password: str):
    """Follow a URL to the IdP's login form, sign in, and return the form it
    answers with (action URL and fields, SAMLResponse among them), unposted."""
    page = session.get(url, timeout=10)
    page.raise_for_status()
    if "SAMLResponse" not in page.text:
        action, fields = read_form(page.text, page.url)
        fields.update({"username": username, "password": password})
        page = session.post(action, data=fields, timeout=10)
        page.raise_for_status()
    if "SAMLResponse" not in page.text:
        raise AssertionError("the IdP did not answer with a SAML response")
    return read_form(page.text, page.url)
