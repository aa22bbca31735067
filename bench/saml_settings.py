"""Settings for bench/saml_acs.py: the project's, plus one bare INSERT view."""

from progression.settings import *  # noqa: F403

ROOT_URLCONF = "bench.saml_urls"
