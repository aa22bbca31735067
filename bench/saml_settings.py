"""Settings for bench/saml_acs.py: the project's, plus one bare INSERT view.

`BENCH_SESSION_ENGINE` swaps the session engine, to compare database sessions
(the project's setting) with sessions in Redis.
"""

import os

from progression.settings import *  # noqa: F403

ROOT_URLCONF = "bench.saml_urls"
SESSION_ENGINE = os.environ.get("BENCH_SESSION_ENGINE", SESSION_ENGINE)  # noqa: F405
