"""Benchmark OIDC ID token verification: ours next to mozilla-django-oidc's.

In one run, against panva's oidc-provider (the test peer, started here) and
Redis: the same set of distinct ID tokens, signed by the provider's key, is
verified by

(a) `sso.oidc.tokens.id_token_verify`: every check (algorithm from
    discovery, key from the JWKS cached in Redis, iss, aud, azp, exp, nonce);
(b) mozilla-django-oidc 5.0.2 as shipped (`verify_token` with
    `OIDC_RP_SIGN_ALGO=RS256`), which fetches the JWKS for every token and
    checks neither iss nor aud: the baseline.

Usage: python bench/oidc_tokens.py [--tokens N] [--json]
Prints tokens verified per second for both, and how many JWKS fetches each
made. Exits 1 if (a) is slower than (b) or fetched the JWKS more than once.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENT_ID = "bench-client"
NONCE = "bench-nonce"


def configure():
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
    os.environ.setdefault(
        "SECRET_KEY", "bench-" + "s3cret-key-for-benchmarks-only-" * 3
    )
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench-oidc")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "progression.settings"
    import django

    django.setup()


def mint(peer, count: int) -> list[str]:
    now = int(time.time())
    return [
        peer.mint(
            {
                "iss": peer.issuer,
                "aud": CLIENT_ID,
                "sub": f"sub-{n}",
                "nonce": NONCE,
                "iat": now,
                "exp": now + 3600,
            }
        )
        for n in range(count)
    ]


def ours(peer, tokens) -> tuple[float, int]:
    import requests
    from django.core.cache import cache

    from sso.models import Connection
    from sso.oidc.tokens import id_token_verify

    discovery = requests.get(
        f"{peer.issuer}/.well-known/openid-configuration", timeout=10
    ).json()
    connection = Connection(
        provider="generic-oidc",
        protocol=Connection.Protocol.OIDC,
        issuer=peer.issuer,
        client_id=CLIENT_ID,
        discovery=discovery,
    )
    cache.clear()
    before = peer.stats()["jwks"]
    started = time.perf_counter()
    for token in tokens:
        id_token_verify(connection, token, nonce=NONCE)
    elapsed = time.perf_counter() - started
    return len(tokens) / elapsed, peer.stats()["jwks"] - before


def library(peer, tokens) -> tuple[float, int]:
    from django.conf import settings
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    settings.OIDC_OP_TOKEN_ENDPOINT = f"{peer.issuer}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{peer.issuer}/me"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{peer.issuer}/jwks"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = "unused"  # noqa: S105 - RS256 ignores it
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    backend = OIDCAuthenticationBackend()
    before = peer.stats()["jwks"]
    started = time.perf_counter()
    for token in tokens:
        backend.verify_token(token, nonce=NONCE)
    elapsed = time.perf_counter() - started
    return len(tokens) / elapsed, peer.stats()["jwks"] - before


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure()
    from django.conf import settings

    from tests.peers.oidc_provider import OidcProvider

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    with tempfile.TemporaryDirectory() as workdir:
        peer = OidcProvider(
            Path(workdir),
            clients=[
                {
                    "client_id": CLIENT_ID,
                    "client_secret": "bench-secret",
                    "redirect_uris": ["http://127.0.0.1:9/cb"],
                }
            ],
        ).start()
        try:
            tokens = mint(peer, args.tokens)
            ours(peer, tokens[:10])  # warm up imports and connections
            library(peer, tokens[:10])
            ours_rate, ours_fetches = ours(peer, tokens)
            library_rate, library_fetches = library(peer, tokens)
        finally:
            peer.stop()

    result = {
        "tokens": args.tokens,
        "ours_per_second": round(ours_rate, 1),
        "ours_jwks_fetches": ours_fetches,
        "library_per_second": round(library_rate, 1),
        "library_jwks_fetches": library_fetches,
        "ratio": round(ours_rate / library_rate, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"ID tokens verified, {args.tokens} distinct tokens")
        print(
            f"  sso.oidc (all checks, cached JWKS): {result['ours_per_second']}/s, "
            f"{ours_fetches} JWKS fetch(es)"
        )
        print(
            f"  mozilla-django-oidc as shipped:     "
            f"{result['library_per_second']}/s, {library_fetches} JWKS fetches"
        )
        print(f"  ratio: {result['ratio']}x")
    return 0 if ours_rate >= library_rate and ours_fetches <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
