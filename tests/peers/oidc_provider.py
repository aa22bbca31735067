"""panva's oidc-provider (npm) as a real OpenID provider for the tests.

`OidcProvider` writes the peer's configuration (clients, accounts and a signing
key made for this run), starts `node server.mjs` on a free port and stops it.
`sign_in()` walks the provider's own login and consent pages over HTTP, the way a
browser would, and returns where the provider sent the person back to. The
`steer`, `rotate`, `mint` and `stats` methods drive the peer's test controls
(see server.mjs): what a provider in the wild might do to a relying party.
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
    # PyJWT marks a private key `key_ops: ["sign"]`, which would keep the
    # provider from verifying its own ID tokens (an `id_token_hint`) with it.
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class OidcProvider:
    workdir: Path
    clients: list[dict] = field(default_factory=list)
    accounts: dict[str, dict] = field(default_factory=dict)
    kid: str = "peer-key-1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    # The issuer's path, as Entra's `/<tenant id>/v2.0`.
    issuer_path: str = ""
    # Paths that also serve discovery, as Entra's `/organizations/v2.0`.
    discovery_prefixes: list[str] = field(default_factory=list)
    # Values that replace the provider's own in its discovery document.
    discovery: dict = field(default_factory=dict)
    # The provider's cookies of the last sign-in, as the person's browser
    # keeps them: `sign_out` ends that session at the provider.
    browser: requests.Session | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base_url + self.issuer_path

    def start(self) -> "OidcProvider":
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "clients": self.clients,
            "accounts": self.accounts,
            "jwks": {"keys": [signing_jwk(self.kid)]},
            "discovery_prefixes": self.discovery_prefixes,
            "discovery": self.discovery,
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
                    f"{self.base_url}/.well-known/openid-configuration", timeout=1
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
        browser = self.browser = requests.Session()
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
                if not location.startswith(self.base_url):
                    return location
                response = browser.get(location, allow_redirects=False, timeout=10)
        raise RuntimeError("the provider did not send the person back")

    def _control(self, name: str, **body) -> dict:
        response = requests.post(
            f"{self.base_url}/__peer/{name}", json=body, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Back to the provider's own behaviour, keys and zero counters."""
        self._control("reset")

    def steer(
        self, *, claims=None, header=None, remove=(), discovery=None, userinfo=None
    ) -> None:
        """Change the ID tokens the token endpoint hands out from now on
        (re-signed with the current key), what discovery reports, or claims
        UserInfo answers with."""
        self._control(
            "steer",
            claims=claims or {},
            header=header or {},
            remove=list(remove),
            discovery=discovery or {},
            userinfo=userinfo or {},
        )

    def register(self, **metadata) -> dict:
        """Register a client through the provider's dynamic registration."""
        response = requests.post(f"{self.base_url}/reg", json=metadata, timeout=10)
        response.raise_for_status()
        return response.json()

    def sign_out(self, end_session_url: str) -> str:
        """Confirm a logout at the provider in the browser that signed in;
        return where the provider sends the person back to."""
        browser = self.browser or requests.Session()
        response = browser.get(end_session_url, allow_redirects=False, timeout=10)
        for _ in range(4):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if not location.startswith(self.base_url):
                    return location
                response = browser.get(location, allow_redirects=False, timeout=10)
                continue
            action = _FORM_ACTION.search(response.text)
            if action is None:
                break
            fields = dict(_HIDDEN.findall(response.text))
            # The provider's own page asks whether to end its session too.
            fields["logout"] = "yes"
            response = browser.post(
                urljoin(response.url, action.group(1)),
                data=fields,
                allow_redirects=False,
                timeout=10,
            )
        raise RuntimeError("the provider did not send the person back")

    def signed_in_at_provider(self, authorize_url: str) -> bool:
        """Whether the last browser still has a session at the provider: a
        new sign-in then skips the provider's login form."""
        url = authorize_url
        for _ in range(6):
            response = self.browser.get(url, allow_redirects=False, timeout=10)
            if not response.is_redirect:
                return 'name="login"' not in response.text
            url = urljoin(response.url, response.headers["Location"])
            if not url.startswith(self.base_url):
                return True
        raise RuntimeError("the provider redirects too often")

    def rotate(self, kid: str = "") -> str:
        """Sign with a new key from now on, published first in the JWKS."""
        return self._control("rotate", kid=kid)["kid"]

    def mint(self, claims: dict, header: dict | None = None) -> str:
        """An ID token with these claims, signed with the current key."""
        return self._control("mint", claims=claims, header=header or {})["id_token"]

    def stats(self) -> dict:
        """How often the JWKS and the discovery document were fetched."""
        return self._control("stats")
