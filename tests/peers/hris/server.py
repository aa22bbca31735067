"""A small real HTTP server on 127.0.0.1 that plays one HR provider's API.

Each provider subclasses `FakeProvider` and answers `route()`. The knobs that
every provider shares live here: throttle the next requests (429 or 503 with
`Retry-After`), fail every listing request after some number of them (a fetch
that breaks half way), and hide fields (a permission the credentials lack).
Every request is logged so tests can assert what the connector sent.
"""

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    client_port: int = 0
    received_at: float = field(default_factory=time.time)

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("authorization", "")
        if not value.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        except ValueError:
            return None
        return user, password

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None


@dataclass
class FakeResponse:
    status: int = 200
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class FakeProvider:
    """Base for the fakes: the server, the request log and the shared knobs."""

    def __init__(self):
        self.requests: list[FakeRequest] = []
        self.hidden_fields: set[str] = set()
        self._throttles: list[tuple] = []
        self._fail_listing_after: int | None = None
        self._refuse_after: int | None = None
        self.listing_requests = 0
        self._lock = threading.Lock()
        self._server = None

    # Knobs shared by every provider.

    def throttle(self, times=1, *, status=429, retry_after="1", body=None):
        """Answer the next `times` requests with `status` and `Retry-After`."""
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        for _ in range(times):
            self._throttles.append(
                (status, headers, body or {"error": "throttled"}, "application/json")
            )

    def answer_next(self, status, body, content_type="application/json"):
        """Answer the next request with this, whatever it asks (a broken proxy)."""
        self._throttles.append((status, {}, body, content_type))

    def refuse_after(self, count: int):
        """Answer 401 to every request after the first `count` (revoked access)."""
        self._refuse_after = count

    def fail_listing_after(self, count: int):
        """Answer 500 to every listing request after the first `count`."""
        self._fail_listing_after = count

    # Subclasses implement these.

    def route(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError

    def is_listing(self, request: FakeRequest) -> bool:
        return False

    # The server.

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes; without this a
            # kept-alive client waits out a delayed ACK on every answer.
            disable_nagle_algorithm = True

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    client_port=self.client_address[1],
                )
                response = provider.dispatch(request)
                if isinstance(response.body, bytes | str):
                    payload = response.body
                    payload = payload.encode() if isinstance(payload, str) else payload
                else:
                    payload = json.dumps(response.body).encode()
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle  # noqa: N815 - the stdlib's names

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def dispatch(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            if (
                self._refuse_after is not None
                and len(self.requests) > self._refuse_after
            ):
                return FakeResponse(401, {"error": "unauthorized"})
            if self._throttles:
                status, headers, body, content_type = self._throttles.pop(0)
                return FakeResponse(status, body, headers, content_type)
            if self.is_listing(request):
                self.listing_requests += 1
                limit = self._fail_listing_after
                if limit is not None and self.listing_requests > limit:
                    return FakeResponse(500, {"error": "internal"})
            return self.route(request)

    def visible(self, record: dict) -> dict:
        """A record without the fields the credentials may not read."""
        return {k: v for k, v in record.items() if k not in self.hidden_fields}

    def requests_to(self, path_suffix: str) -> list[FakeRequest]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]
