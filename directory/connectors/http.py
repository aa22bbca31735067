"""The one HTTP client every connector uses.

Every request goes through `progression.outbound`, so an HR API address an
admin typed is held to the same rules as any other outbound call: https only,
no private addresses unless the host is allowed, a timeout and a size cap.
On top of that the client retries, with exponential backoff, connection
failures and server errors, and on 429 and 503 waits as long as the provider
asks (`Retry-After` in seconds or as a date, else `X-RateLimit-Reset`), up to
a bound, so a throttled sync slows down instead of failing. The number of
attempts is bounded too: a provider that keeps failing fails the fetch.
"""

import email.utils
import json as jsonlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import ijson

from directory.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorResponseError,
    ConnectorUnavailableError,
)
from progression.outbound import (
    OutboundRefusedError,
    OutboundResponse,
    OutboundSession,
)

logger = logging.getLogger(__name__)

TIMEOUT = 30.0
MAX_BYTES = 64 * 1024 * 1024
# An answer written to a file (a provider without pagination answering with
# the whole directory at once) may be larger: 1 GB holds millions of people.
SPOOLED_MAX_BYTES = 1024 * 1024 * 1024
MAX_ATTEMPTS = 5
RETRY_BACKOFF = 0.5
# The longest single wait a provider may ask for before the fetch gives up.
MAX_WAIT = 120.0

AUTH_REFUSED = "The provider refused the credentials (HTTP %s)."
UNAVAILABLE = "The provider did not answer successfully after %s attempts."
THROTTLED_TOO_LONG = "The provider asked to wait %s seconds; a sync waits at most %s."
STATUS_UNEXPECTED = "The provider answered with HTTP status %s."
NOT_JSON = "The provider's answer is not JSON."
ADDRESS_REFUSED = "The provider's address was refused: %s"
TOO_LARGE = "The provider's answer is too large."

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses that mean the request was not processed, so even a request that
# must not be repeated blindly (a single-use token exchange) may be retried.
REFUSED_UNPROCESSED = frozenset({429, 503})


def wait_requested(response: OutboundResponse, *, now: float) -> float | None:
    """Seconds the provider asked us to wait, from `Retry-After` or a reset time."""
    retry_after = response.headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if retry_after:
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - datetime.now(tz=UTC)).total_seconds())
    reset = response.headers.get("x-ratelimit-reset", "").strip()
    if reset.isdigit():
        return max(0.0, int(reset) - now)
    return None


class HttpClient:
    """Requests against one API root, with retries; 2xx answers come back.

    Connections are kept alive between the requests of one client (the pages
    of one fetch); `close` releases them.
    """

    def __init__(
        self,
        base_url: str,
        *,
        throttled: Callable[[OutboundResponse], bool] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        # Some providers throttle with another status (Google: 403 with a
        # rate-limit reason); the connector says how to recognise it.
        self.throttled = throttled or (lambda response: False)
        self._session = OutboundSession()

    def close(self) -> None:
        self._session.close()

    def url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict | None = None,
        params: dict | None = None,
        data: dict | None = None,
        json: Any = None,
        repeatable: bool = True,
        sink: BinaryIO | None = None,
        max_bytes: int | None = None,
    ) -> OutboundResponse:
        """Send a request until it succeeds, or raise the `ConnectorError` it earned.

        `repeatable=False` marks a request whose repetition may do harm once
        the provider processed it; it is retried only after an answer saying
        it was not processed (429, 503). With a `sink` the body of the answer
        is written to that file, emptied before each attempt, instead of
        being held. `max_bytes` caps the answer (default `MAX_BYTES`).
        """
        url = self.url(path)
        max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        for attempt in range(1, MAX_ATTEMPTS + 1):
            last = attempt == MAX_ATTEMPTS
            if sink is not None:
                sink.seek(0)
                sink.truncate()
            try:
                response = self._session.send(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=data,
                    json=json,
                    timeout=TIMEOUT,
                    max_bytes=max_bytes,
                    sink=sink,
                )
            except OutboundRefusedError as exc:
                if exc.code == "fetch_too_large":
                    raise ConnectorResponseError(TOO_LARGE, code="too_large") from exc
                if exc.code != "fetch_failed":
                    raise ConnectorConfigError(
                        ADDRESS_REFUSED % exc.message, code="address_refused"
                    ) from exc
                if last or not repeatable:
                    raise ConnectorUnavailableError(
                        UNAVAILABLE % attempt, code="unavailable"
                    ) from exc
                self._pause(RETRY_BACKOFF * 2 ** (attempt - 1), attempt, 0)
                continue

            if 200 <= response.status < 300:
                return response
            throttled = self.throttled(response)
            if response.status in (401, 403) and not throttled:
                raise ConnectorAuthError(
                    AUTH_REFUSED % response.status,
                    code="auth_refused",
                    status=response.status,
                )
            if not throttled and response.status not in RETRY_STATUSES:
                raise ConnectorResponseError(
                    STATUS_UNEXPECTED % response.status,
                    code="status_unexpected",
                    status=response.status,
                )
            if not repeatable and not (
                throttled or response.status in REFUSED_UNPROCESSED
            ):
                raise ConnectorUnavailableError(
                    UNAVAILABLE % attempt, code="unavailable", status=response.status
                )
            if last:
                raise ConnectorUnavailableError(
                    UNAVAILABLE % attempt, code="unavailable", status=response.status
                )
            wait = wait_requested(response, now=time.time())
            if wait is None:
                wait = RETRY_BACKOFF * 2 ** (attempt - 1)
            if wait > MAX_WAIT:
                raise ConnectorUnavailableError(
                    THROTTLED_TOO_LONG % (int(wait), int(MAX_WAIT)),
                    code="throttled",
                    status=response.status,
                )
            self._pause(wait, attempt, response.status)
        raise AssertionError("unreachable")  # pragma: no cover - loop returns

    def json(self, method: str, path: str, **kwargs) -> Any:
        """`request`, with the answer parsed as JSON."""
        response = self.request(method, path, **kwargs)
        return parse_json(response)

    def items(
        self, method: str, path: str, key: str, *, malformed: str, **kwargs
    ) -> Iterator[dict]:
        """The objects listed under `key` of a JSON answer, one at a time.

        For providers that answer with the whole directory at once: the
        answer is written to a temporary file as it arrives and parsed from
        there as a stream, so a fetch holds one object, not the directory.
        An answer without that list, or with anything but objects in it,
        raises a `ConnectorResponseError` with the `malformed` message.
        """
        with tempfile.TemporaryFile() as body:
            self.request(method, path, sink=body, max_bytes=SPOOLED_MAX_BYTES, **kwargs)
            yield from stream_items(body, key, malformed=malformed)

    @staticmethod
    def _pause(seconds: float, attempt: int, status: int) -> None:
        logger.warning(
            "hr api request retried: status %s, attempt %s, waiting %.1fs",
            status,
            attempt,
            seconds,
        )
        time.sleep(seconds)


def parse_json(response: OutboundResponse) -> Any:
    try:
        return jsonlib.loads(response.content)
    except ValueError as exc:
        raise ConnectorResponseError(NOT_JSON, code="not_json") from exc


def stream_items(body: BinaryIO, key: str, *, malformed: str) -> Iterator[dict]:
    """The objects of the list under `key` in a JSON file, parsed one by one."""
    refused = ConnectorResponseError(malformed, code="answer_malformed")
    try:
        body.seek(0)
        if not _lists(ijson.parse(body), key):
            raise refused
        body.seek(0)
        for item in ijson.items(body, f"{key}.item", use_float=True):
            if not isinstance(item, dict):
                raise refused
            yield item
    except ijson.JSONError as exc:
        raise ConnectorResponseError(NOT_JSON, code="not_json") from exc


def _lists(events, key: str) -> bool:
    """Whether the answer is an object whose `key` is a list.

    Reads only until that value starts: near the beginning of a real answer.
    """
    for prefix, event, _ in events:
        if prefix == "" and event not in ("start_map", "map_key"):
            return False
        if prefix == key:
            return event == "start_array"
    return False
