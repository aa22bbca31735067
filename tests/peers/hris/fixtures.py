"""Pytest fixtures that start each fake HR provider on a free 127.0.0.1 port."""

import pytest

from tests.peers.hris.bamboohr import FakeBambooHR
from tests.peers.hris.google import FakeGoogle
from tests.peers.hris.gusto import FakeGusto
from tests.peers.hris.hibob import FakeHiBob
from tests.peers.hris.workday import FakeWorkday


def _serve(fake):
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def bamboohr_fake():
    yield from _serve(FakeBambooHR())


@pytest.fixture
def gusto_fake():
    yield from _serve(FakeGusto())


@pytest.fixture
def hibob_fake():
    yield from _serve(FakeHiBob())


@pytest.fixture
def workday_fake():
    yield from _serve(FakeWorkday())


@pytest.fixture
def google_fake():
    yield from _serve(FakeGoogle())
