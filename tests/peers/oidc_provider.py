"""panva's oidc-provider (npm) as a real OpenID provider for the tests.

`OidcProvider` writes the peer's configuration (clients, accounts and a signing
key made for this run), starts `node server.mjs` on a free port and stops it.
`sign_in()` walks the provider's own login and consent pages over HTTP, the way a
browser would, and returns where the provider sent the person back to.
"""

import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

PEER_DIR = Path(__file__).resolve().parent / "oidc"
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"', re.IGNORECASE)
_HIDDEN = re.compile(
    r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.IGNORECASE
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signing_jwk(kid: str) -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class OidcProvider:
    workdir: Path
    clients: list[dict] = field(default_factory=list)
    accounts: dict[str, dict] = field(default_factory=dict)
    kid: str = "peer-key-1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "OidcProvider":
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "clients": self.clients,
            "accounts": self.accounts,
            "jwks": {"keys": [signing_jwk(self.kid)]},
        }
        path = self.workdir / "oidc-peer.json"
        path.write_text(json.dumps(config))
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            ["node", "server.mjs"],  # noqa: S607 - node from PATH
            cwd=PEER_DIR,
            env={"OIDC_PEER_CONFIG": str(path), "PATH": "/usr/bin:/usr/local/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(
                    f"{self.issuer}/.well-known/openid-configuration", timeout=1
                )
                return self
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stdout.read()) from None
                time.sleep(0.2)
        raise RuntimeError("the OpenID provider did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def sign_in(self, authorize_url: str, *, login: str) -> str:
        """Sign in at the provider and consent; return the redirect back to us."""
        browser = requests.Session()
        response = browser.get(authorize_url, allow_redirects=True, timeout=10)
        for _ in range(4):
            action = _FORM_ACTION.search(response.text)
            if action is None:
                break
            fields = dict(_HIDDEN.findall(response.text))
            if 'name="login"' in response.text:
                fields.update({"login": login, "password": "any"})
            response = browser.post(
                urljoin(response.url, action.group(1)),
                data=fields,
                allow_redirects=False,
                timeout=10,
            )
            while response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if not location.startswith(self.issuer):
                    return location
                response = browser.get(location, allow_redirects=False, timeout=10)
        raise RuntimeError("the provider did not send the person back")
