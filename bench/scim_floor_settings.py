"""Settings for bench/scim_floor.py: the project's, the bare insert view and the
floor of a SCIM create."""

from bench.scim_settings import *  # noqa: F403

ROOT_URLCONF = "bench.scim_floor_urls"
