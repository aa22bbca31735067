import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from progression import outbound
from progression.outbound import OutboundRefusedError, fetch


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        if self.path == "/big":
            self._answer(200, b"x" * 5000)
        elif self.path == "/big-undeclared":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"y" * 5000)
        elif self.path == "/slow":
            time.sleep(1.5)
            self._answer(200, b"late")
        elif self.path == "/to-metadata-service":
            self.send_response(302)
            self.send_header("Location", "https://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/to-ok":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/missing":
            self._answer(404, b"no")
        else:
            self._answer(200, b"<EntityDescriptor/>")

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


def test_fetch_allowed_host_returns_content(local_server, allow_loopback):
    result = fetch(f"{local_server}/metadata")

    assert result.status == 200
    assert result.content == b"<EntityDescriptor/>"
    assert result.content_type == "application/xml"


def test_fetch_loopback_not_allowed_is_refused(local_server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(OutboundRefusedError) as caught:
        fetch(f"{local_server}/metadata")

    assert caught.value.message == outbound.URL_NOT_HTTPS


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/metadata",
        "https://10.1.2.3/metadata",
        "https://192.168.0.10/metadata",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/metadata",
        "https://[::ffff:127.0.0.1]/metadata",
        "https://localhost/metadata",
        "https://0.0.0.0/metadata",
    ],
)
def test_check_url_private_address_is_refused(url, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(OutboundRefusedError) as caught:
        outbound.check_url(url)

    assert caught.value.message == outbound.URL_PRIVATE


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "ftp://example.com/x", "file:///etc/passwd", "https://"],
)
def test_check_url_malformed_is_refused(url):
    with pytest.raises(OutboundRefusedError) as caught:
        outbound.check_url(url)

    assert caught.value.message == outbound.URL_INVALID


def test_check_url_plain_http_public_host_is_refused(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(OutboundRefusedError) as caught:
        outbound.check_url("http://93.184.215.14/metadata")

    assert caught.value.message == outbound.URL_NOT_HTTPS


def test_check_url_public_address_is_pinned(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    host, address = outbound.check_url("https://93.184.215.14/metadata")

    assert (host, address) == ("93.184.215.14", "93.184.215.14")


def test_check_url_unresolvable_host_is_refused(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(OutboundRefusedError) as caught:
        outbound.check_url("https://no-such-host.invalid/metadata")

    assert caught.value.message == outbound.URL_UNRESOLVED


def test_fetch_declared_size_over_cap_is_refused(local_server, allow_loopback):
    with pytest.raises(OutboundRefusedError) as caught:
        fetch(f"{local_server}/big", max_bytes=1000)

    assert caught.value.message == outbound.FETCH_TOO_LARGE


def test_fetch_streamed_size_over_cap_is_refused(local_server, allow_loopback):
    with pytest.raises(OutboundRefusedError) as caught:
        fetch(f"{local_server}/big-undeclared", max_bytes=1000)

    assert caught.value.message == outbound.FETCH_TOO_LARGE


def test_fetch_slow_answer_times_out(local_server, allow_loopback):
    with pytest.raises(OutboundRefusedError) as caught:
        fetch(f"{local_server}/slow", timeout=0.3)

    assert caught.value.message == outbound.FETCH_FAILED


def test_fetch_redirect_to_private_address_is_refused(local_server, allow_loopback):
    with pytest.raises(OutboundRefusedError) as caught:
        fetch(f"{local_server}/to-metadata-service")

    assert caught.value.message == outbound.URL_PRIVATE


def test_fetch_redirect_within_allowed_host_is_followed(local_server, allow_loopback):
    result = fetch(f"{local_server}/to-ok")

    assert result.url == f"{local_server}/ok"
    assert result.content == b"<EntityDescriptor/>"


def test_fetch_redirect_loop_is_refused(local_server, allow_loopback):
    with pytest.raises(OutboundRefusedError) as caught:
        fetch(f"{local_server}/loop")

    assert caught.value.message == outbound.FETCH_TOO_MANY_REDIRECTS


def test_fetch_error_status_is_refused(local_server, allow_loopback):
    with pytest.raises(OutboundRefusedError) as caught:
        fetch(f"{local_server}/missing")

    assert caught.value.message == outbound.FETCH_STATUS % 404
