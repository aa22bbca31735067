import email.utils
import json
from datetime import UTC, datetime, timedelta

import pytest

from directory.connectors import http
from directory.connectors.errors import (
    ConnectorConfigError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from directory.connectors.http import HttpClient, wait_requested
from progression.outbound import OutboundResponse
from tests.peers.hris.server import FakeProvider, FakeResponse


class Echo(FakeProvider):
    """Answers 200 with the path, unless a test queued other answers."""

    def route(self, request):
        return FakeResponse(200, {"path": request.path})


@pytest.fixture
def echo():
    fake = Echo().start()
    yield fake
    fake.stop()


def _response(**headers):
    return OutboundResponse(url="https://x", status=429, content=b"", headers=headers)


def test_wait_requested_seconds_are_read():
    assert wait_requested(_response(**{"retry-after": "7"}), now=0) == 7.0


def test_wait_requested_http_date_is_read():
    when = datetime.now(tz=UTC) + timedelta(seconds=30)
    header = email.utils.format_datetime(when, usegmt=True)

    wait = wait_requested(_response(**{"retry-after": header}), now=0)

    assert 28 <= wait <= 30


def test_wait_requested_reset_epoch_is_read():
    response = _response(**{"x-ratelimit-reset": "1000"})

    assert wait_requested(response, now=990.5) == 9.5


def test_wait_requested_reset_in_the_past_is_zero():
    assert wait_requested(_response(**{"x-ratelimit-reset": "10"}), now=20) == 0.0


def test_wait_requested_nothing_asked_is_none():
    assert wait_requested(_response(**{"retry-after": "soon"}), now=0) is None


def test_request_server_error_is_retried_until_success(echo):
    echo.answer_next(500, {"error": "x"})
    echo.answer_next(502, {"error": "x"})

    body = HttpClient(echo.url).json("GET", "/people")

    assert body == {"path": "/people"}
    assert len(echo.requests) == 3


def test_request_client_error_is_not_retried(echo):
    echo.answer_next(400, {"error": "bad"})

    with pytest.raises(ConnectorResponseError) as caught:
        HttpClient(echo.url).request("GET", "/people")

    assert (caught.value.status, len(echo.requests)) == (400, 1)
    assert caught.value.message == http.STATUS_UNEXPECTED % 400


def test_request_redirect_is_not_followed(echo):
    echo.answer_next(302, "")

    with pytest.raises(ConnectorResponseError) as caught:
        HttpClient(echo.url).request("GET", "/people")

    assert caught.value.status == 302


def test_request_not_repeatable_is_not_retried_after_server_error(echo):
    echo.answer_next(500, {"error": "x"})

    with pytest.raises(ConnectorUnavailableError):
        HttpClient(echo.url).request("POST", "/token", repeatable=False)

    assert len(echo.requests) == 1


def test_request_not_repeatable_is_retried_after_throttling(echo):
    echo.throttle(status=503, retry_after="0")

    response = HttpClient(echo.url).request("POST", "/token", repeatable=False)

    assert response.status == 200
    assert len(echo.requests) == 2


def test_request_unreachable_host_fails_after_every_attempt():
    server = Echo().start()
    url = server.url
    server.stop()

    with pytest.raises(ConnectorUnavailableError) as caught:
        HttpClient(url).request("GET", "/people")

    assert caught.value.message == http.UNAVAILABLE % http.MAX_ATTEMPTS


def test_request_answer_over_cap_is_a_response_error(echo, monkeypatch):
    monkeypatch.setattr(http, "MAX_BYTES", 10)

    with pytest.raises(ConnectorResponseError) as caught:
        HttpClient(echo.url).request("GET", "/a-long-path-for-a-long-answer")

    assert caught.value.message == http.TOO_LARGE


def test_request_private_address_is_a_config_error(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(ConnectorConfigError) as caught:
        HttpClient("https://10.0.0.8").request("GET", "/people")

    assert caught.value.code == "address_refused"


def test_request_absolute_url_is_used_as_given(echo):
    client = HttpClient("https://api.example.invalid")

    body = client.json("GET", f"{echo.url}/token")

    assert body == {"path": "/token"}


def test_json_answer_not_json_is_a_response_error(echo):
    echo.answer_next(200, "<html/>", content_type="text/html")

    with pytest.raises(ConnectorResponseError) as caught:
        HttpClient(echo.url).json("GET", "/people")

    assert caught.value.message == http.NOT_JSON


def test_request_with_sink_writes_the_body_there(echo, tmp_path):
    with open(tmp_path / "body", "w+b") as sink:
        response = HttpClient(echo.url).request("GET", "/people", sink=sink)
        sink.seek(0)

        assert (response.status, response.content) == (200, b"")
        assert json.loads(sink.read()) == {"path": "/people"}


def test_request_with_sink_keeps_only_the_last_attempts_body(echo, tmp_path):
    echo.answer_next(503, {"error": "a longer body from the failed attempt"})

    with open(tmp_path / "body", "w+b") as sink:
        HttpClient(echo.url).request("GET", "/p", sink=sink)
        sink.seek(0)

        assert json.loads(sink.read()) == {"path": "/p"}
    assert len(echo.requests) == 2


def test_request_with_sink_is_capped_by_its_own_limit(echo, tmp_path):
    with open(tmp_path / "body", "w+b") as sink:
        with pytest.raises(ConnectorResponseError) as caught:
            HttpClient(echo.url).request(
                "GET", "/a-long-path-for-a-long-answer", sink=sink, max_bytes=10
            )

    assert caught.value.message == http.TOO_LARGE
