import pytest

from directory.connectors import http


@pytest.fixture(autouse=True)
def _connector_test_settings(settings, monkeypatch):
    """Reach the fakes on 127.0.0.1, and back off in milliseconds, not seconds."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(http, "RETRY_BACKOFF", 0.01)


@pytest.fixture
def bamboohr_fake():
    from tests.peers.hris.bamboohr import FakeBambooHR

    fake = FakeBambooHR().start()
    yield fake
    fake.stop()


@pytest.fixture
def gusto_fake():
    from tests.peers.hris.gusto import FakeGusto

    fake = FakeGusto().start()
    yield fake
    fake.stop()


@pytest.fixture
def hibob_fake():
    from tests.peers.hris.hibob import FakeHiBob

    fake = FakeHiBob().start()
    yield fake
    fake.stop()


@pytest.fixture
def workday_fake():
    from tests.peers.hris.workday import FakeWorkday

    fake = FakeWorkday().start()
    yield fake
    fake.stop()


@pytest.fixture
def google_fake():
    from tests.peers.hris.google import FakeGoogle

    fake = FakeGoogle().start()
    yield fake
    fake.stop()
