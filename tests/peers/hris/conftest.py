from tests.peers.hris.fixtures import (  # noqa: F401
    bamboohr_fake,
    google_fake,
    gusto_fake,
    hibob_fake,
    workday_fake,
)
