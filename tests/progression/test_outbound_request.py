import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from progression import outbound
from progression.outbound import OutboundRefusedError, OutboundSession, send


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        echo = {
            "method": "POST",
            "path": self.path,
            "body": body.decode(),
            "content_type": self.headers.get("Content-Type"),
            "authorization": self.headers.get("Authorization"),
        }
        self._answer(200, json.dumps(echo).encode())

    def do_GET(self):  # noqa: N802 - the stdlib's name
        if self.path == "/limited":
            self._answer(429, b"slow down", {"Retry-After": "7"})
        elif self.path == "/moved":
            self._answer(302, b"", {"Location": "https://169.254.169.254/"})
        elif self.path == "/big":
            self._answer(200, b"x" * 5000)
        else:
            self._answer(200, json.dumps({"path": self.path}).encode())

    def _answer(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - the stdlib's name
        body = json.dumps({"client_port": self.client_address[1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def keep_alive_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


def test_send_post_form_body_reaches_server(local_server, allow_loopback):
    response = send(
        "POST",
        f"{local_server}/token",
        data={"grant_type": "refresh_token"},
        headers={"Authorization": "Basic abc"},
    )

    echo = json.loads(response.content)
    assert response.status == 200
    assert echo["body"] == "grant_type=refresh_token"
    assert echo["content_type"] == "application/x-www-form-urlencoded"
    assert echo["authorization"] == "Basic abc"


def test_send_post_json_body_reaches_server(local_server, allow_loopback):
    response = send("POST", f"{local_server}/search", json={"fields": ["a"]})

    assert json.loads(json.loads(response.content)["body"]) == {"fields": ["a"]}


def test_send_query_parameters_are_encoded(local_server, allow_loopback):
    response = send("GET", f"{local_server}/users", params={"pageToken": "a b"})

    assert json.loads(response.content) == {"path": "/users?pageToken=a+b"}


def test_send_error_status_is_returned_with_headers(local_server, allow_loopback):
    response = send("GET", f"{local_server}/limited")

    assert response.status == 429
    assert response.headers["retry-after"] == "7"
    assert response.text == "slow down"
    assert response.url == f"{local_server}/limited"


def test_send_redirect_is_not_followed(local_server, allow_loopback):
    response = send("GET", f"{local_server}/moved")

    assert response.status == 302
    assert response.headers["location"] == "https://169.254.169.254/"


def test_send_answer_over_cap_is_refused(local_server, allow_loopback):
    with pytest.raises(OutboundRefusedError) as caught:
        send("GET", f"{local_server}/big", max_bytes=1000)

    assert caught.value.message == outbound.FETCH_TOO_LARGE


def test_send_loopback_not_allowed_is_refused(local_server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(OutboundRefusedError) as caught:
        send("POST", f"{local_server}/token", data={"a": "b"})

    assert caught.value.message == outbound.URL_NOT_HTTPS


def test_send_private_address_is_refused(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(OutboundRefusedError) as caught:
        send("POST", "https://10.0.0.1/token", data={"a": "b"})

    assert caught.value.message == outbound.URL_PRIVATE


def test_send_closed_port_is_a_failed_fetch(allow_loopback):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_port
    server.server_close()

    with pytest.raises(OutboundRefusedError) as caught:
        send("GET", f"http://127.0.0.1:{port}/", timeout=2)

    assert caught.value.code == "fetch_failed"


def test_session_requests_to_one_host_share_a_connection(
    keep_alive_server, allow_loopback
):
    with OutboundSession() as session:
        first = session.send("GET", f"{keep_alive_server}/a")
        second = session.send("GET", f"{keep_alive_server}/b")

    assert json.loads(first.content) == json.loads(second.content)


def test_send_opens_a_connection_per_request(keep_alive_server, allow_loopback):
    first = send("GET", f"{keep_alive_server}/a")
    second = send("GET", f"{keep_alive_server}/b")

    assert json.loads(first.content) != json.loads(second.content)


def test_session_checks_every_request(keep_alive_server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    with OutboundSession() as session:
        session.send("GET", f"{keep_alive_server}/a")
        settings.OUTBOUND_ALLOWED_HOSTS = []

        with pytest.raises(OutboundRefusedError) as caught:
            session.send("GET", f"{keep_alive_server}/b")

    assert caught.value.message == outbound.URL_NOT_HTTPS


def test_session_private_address_is_refused(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with OutboundSession() as session, pytest.raises(OutboundRefusedError) as caught:
        session.send("GET", "https://192.168.1.1/users")

    assert caught.value.message == outbound.URL_PRIVATE
