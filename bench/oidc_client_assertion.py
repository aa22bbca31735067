"""Benchmark signing a private_key_jwt client assertion: ours next to a naive one.

Every token request of a private_key_jwt connection signs an assertion with
the connection's RSA key (3072 bits). In one run, for the same key:

(a) `sso.oidc.client_auth.client_assertion`: the key is loaded once per
    process, without cryptography's RSA consistency check (the key is ours,
    stored under authenticated encryption);
(b) the baseline: load the PEM with cryptography's defaults for every
    assertion and sign it with PyJWT, as a first implementation would.

Usage: python bench/oidc_client_assertion.py [--count N] [--json]
Prints assertions per second for both. Exits 1 if (a) is not faster than (b)
or an assertion of (a) does not verify with the published public key.
No database or Redis is needed.
"""

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENDPOINT = "https://op.example/token"


def configure():
    os.environ.setdefault(
        "SECRET_KEY", "bench-" + "s3cret-key-for-benchmarks-only-" * 3
    )
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "progression.settings"
    import django

    django.setup()


def naive(pem: str, client_id: str) -> str:
    import jwt
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem.encode(), password=None)
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": ENDPOINT,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 60,
    }
    return jwt.encode(claims, key, algorithm="RS256")


def rate(function, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        function()
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure()

    import jwt

    from sso.models import Connection
    from sso.oidc import client_auth

    connection = Connection(protocol=Connection.Protocol.OIDC, client_id="bench")
    connection.client_signing_key = client_auth.signing_key_generate()
    client_auth.client_assertion(connection, ENDPOINT)  # the one load per process

    ours = rate(lambda: client_auth.client_assertion(connection, ENDPOINT), args.count)
    baseline = rate(lambda: naive(connection.client_signing_key, "bench"), args.count)
    public = jwt.PyJWK(client_auth.public_jwk(connection))
    verified = (
        jwt.decode(
            client_auth.client_assertion(connection, ENDPOINT),
            public,
            algorithms=["RS256"],
            audience=ENDPOINT,
        )["sub"]
        == "bench"
    )

    result = {
        "assertions_per_second": round(ours, 1),
        "baseline_per_second": round(baseline, 1),
        "verified": verified,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"ours     {ours:8.1f} assertions/s")
        print(
            f"baseline {baseline:8.1f} assertions/s (PEM loaded and checked each time)"
        )
        print(f"speed-up {ours / baseline:8.1f}x; verifies with our JWKS: {verified}")
    return 0 if verified and ours > baseline else 1


if __name__ == "__main__":
    sys.exit(main())
