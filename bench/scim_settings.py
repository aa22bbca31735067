"""Settings for bench/scim_create.py: the project's, plus one bare INSERT view."""

from progression.settings import *  # noqa: F403

ROOT_URLCONF = "bench.scim_urls"
