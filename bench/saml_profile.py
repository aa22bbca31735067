"""Profile the CPU of complete SAML sign-ins, in-process, through WSGI.

Builds the same organisation, connection and signed responses as
`bench/saml_acs.py`, with the same settings, then posts each response to the
ACS through Django's WSGI handler (no HTTP server, no client library), as a
gunicorn worker would run it. Prints the CPU time of one returning person's
sign-in (process time, so waiting on PostgreSQL and Redis is not counted),
next to the bare INSERT view's, and,
with `--profile`, the cProfile table sorted by own time and by cumulative
time.

Usage: python bench/saml_profile.py [--sign-ins N] [--profile] [--top N]
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import saml_acs  # noqa: E402

ROUNDS = 5


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sign-ins", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args(argv)


def _environ(url: str, body: bytes) -> dict:
    parts = urlsplit(url)
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": parts.path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": parts.hostname,
        "SERVER_PORT": str(parts.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": parts.netloc,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _insert_environ(base_url: str) -> dict:
    return _environ(base_url + "/bench/insert/", b"")


def sign_in_runner(application, url):
    """A function that posts one form body and checks it signed the person in."""

    def run(body):
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = status
            answer["headers"] = headers

        result = application(_environ(url, body), start_response)
        for _chunk in result:
            pass
        result.close()
        cookies = [v for k, v in answer["headers"] if k.lower() == "set-cookie"]
        if not answer["status"].startswith("302") or not any(
            c.strip().startswith("sessionid=") for c in cookies
        ):
            raise SystemExit(f"sign-in failed: {answer['status']}")

    return run


def insert_runner(application, base_url):
    def run(_item):
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = status

        result = application(_insert_environ(base_url), start_response)
        for _chunk in result:
            pass
        result.close()
        if not answer["status"].startswith("200"):
            raise SystemExit(f"insert failed: {answer['status']}")

    return run


def cpu_per_call(function, items) -> float:
    """Milliseconds of this process's CPU per call."""
    started = time.process_time()
    for item in items:
        function(item)
    return (time.process_time() - started) * 1000 / len(items)


def main(argv=None) -> int:
    args = parse_args(argv)
    port = saml_acs._free_port()
    saml_acs.configure(port)
    from django.core.cache import cache
    from django.core.wsgi import get_wsgi_application

    cache.clear()
    connection = saml_acs.arrange()
    try:
        count = args.sign_ins
        # Encoding the form is the client's work, done before timing.
        pool = [
            urlencode({"SAMLResponse": encoded}).encode()
            for encoded in saml_acs.responses_build(connection, 2 * count + 50)
        ]
        application = get_wsgi_application()
        sign_in = sign_in_runner(application, connection.acs_url)
        insert = insert_runner(application, os.environ["PUBLIC_BASE_URL"])
        # Warm up: the first sign-in links the subject; later ones return.
        for encoded in pool[:50]:
            sign_in(encoded)
        for _ in range(50):
            insert(None)
        # The machine is shared: measured in alternating rounds, and each
        # figure is the lowest round's, the one least disturbed by others.
        rounds = {"insert": [], "sign_in": []}
        size = max(count // ROUNDS, 1)
        for start in range(50, 50 + count, size):
            rounds["insert"].append(cpu_per_call(insert, range(size)))
            rounds["sign_in"].append(cpu_per_call(sign_in, pool[start : start + size]))
        insert_ms, sign_in_ms = min(rounds["insert"]), min(rounds["sign_in"])
        print(f"CPU per request over {count}, in-process:")
        print(f"    bare view, one INSERT       {insert_ms:6.2f} ms")
        print(
            f"    complete SAML sign-in       {sign_in_ms:6.2f} ms"
            f"   ({insert_ms / sign_in_ms:.2f} of the view's rate)"
        )
        if args.profile:
            # CPU time only: waiting on PostgreSQL and Redis is not counted.
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for encoded in pool[50 + count :]:
                sign_in(encoded)
            profiler.disable()
            for order in ("tottime", "cumulative"):
                stats = pstats.Stats(profiler).strip_dirs().sort_stats(order)
                stats.print_stats(args.top)
    finally:
        if not args.keep:
            saml_acs._database_drop(os.environ["DATABASE_URL"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
