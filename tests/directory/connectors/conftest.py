import pytest

from directory.connectors import http
from tests.peers.hris.fixtures import (  # noqa: F401
    bamboohr_fake,
    google_fake,
    gusto_fake,
    hibob_fake,
    workday_fake,
)


@pytest.fixture(autouse=True)
def _connector_test_settings(settings, monkeypatch):
    """Reach the fakes on 127.0.0.1, and back off in milliseconds, not seconds."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(http, "RETRY_BACKOFF", 0.01)
