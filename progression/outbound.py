"""Fetching a URL that an admin typed, without letting it reach inside our network.

Metadata URLs, OIDC issuers and HR APIs are chosen by customers, so every fetch
is a server-side request forgery risk. `fetch` allows only https, resolves the
host once, refuses private, loopback, link-local and other non-public addresses,
connects to the address it checked (so a second DNS answer cannot swap it), does
not follow redirects on its own (each hop is checked again), and caps the time
and the size of the answer. Hosts in `settings.OUTBOUND_ALLOWED_HOSTS` skip the
address and scheme checks: tests, and an IdP on a customer's private network.
"""

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from progression.errors import ProgressionError

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

URL_INVALID = "Enter a full https:// address."
URL_NOT_HTTPS = "Only https:// addresses can be fetched."
URL_PRIVATE = "That address points inside a private network and cannot be fetched."
URL_UNRESOLVED = "That host name does not resolve."
FETCH_FAILED = "The address could not be fetched."
FETCH_TOO_LARGE = "The answer from that address is too large."
FETCH_TOO_MANY_REDIRECTS = "That address redirects too many times."
FETCH_STATUS = "That address answered with HTTP status %s."

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3


class OutboundRefusedError(ProgressionError):
    """A URL we will not fetch, or a fetch that failed; the message says which."""

    code = "outbound_refused"


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content: bytes
    content_type: str

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def _allowed_hosts() -> set[str]:
    return {host.lower().strip("[]") for host in settings.OUTBOUND_ALLOWED_HOSTS}


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, str | None]:
    """Validate a URL for fetching; return its host and the address to connect to.

    The address is None for an allowed host, which is resolved normally.
    """
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError as exc:
        raise OutboundRefusedError(URL_INVALID, code="url_invalid") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host or parts.username:
        raise OutboundRefusedError(URL_INVALID, code="url_invalid")
    if host in _allowed_hosts():
        return host, None
    if parts.scheme != "https":
        raise OutboundRefusedError(URL_NOT_HTTPS, code="url_not_https")
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefusedError(URL_UNRESOLVED, code="url_unresolved") from exc
    addresses = [info[4][0] for info in infos]
    # Every answer must be public: an attacker's DNS may mix a public address
    # with a private one and hope the client picks the second.
    if not addresses or not all(_address_is_public(a) for a in addresses):
        security_logger.warning("outbound fetch refused: private address")
        raise OutboundRefusedError(URL_PRIVATE, code="url_private")
    return host, addresses[0]


class _PinnedAdapter(HTTPAdapter):
    """Connect to a checked address while TLS still verifies the host name."""

    def __init__(self, host: str, address: str):
        self._host = host
        self._address = address
        super().__init__(max_retries=0)

    def send(self, request, **kwargs):
        # Swap the host for the checked address in the connection only; the
        # Host header and the TLS server name stay those of the URL.
        parts = urlsplit(request.url)
        address = f"[{self._address}]" if ":" in self._address else self._address
        netloc = address if parts.port is None else f"{address}:{parts.port}"
        request.url = parts._replace(netloc=netloc).geturl()
        request.headers["Host"] = parts.netloc
        self.poolmanager.connection_pool_kw["server_hostname"] = self._host
        self.poolmanager.connection_pool_kw["assert_hostname"] = self._host
        return super().send(request, **kwargs)


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    headers: dict | None = None,
) -> FetchResult:
    """GET a customer-supplied URL under the rules above, or raise the refusal."""
    for _ in range(MAX_REDIRECTS + 1):
        host, address = check_url(url)
        with requests.Session() as session:
            session.trust_env = False
            if address is not None:
                session.mount("https://", _PinnedAdapter(host, address))
            try:
                response = session.get(
                    url,
                    timeout=timeout,
                    headers=headers or {},
                    allow_redirects=False,
                    stream=True,
                )
            except requests.RequestException as exc:
                logger.warning("outbound fetch failed: %s", type(exc).__name__)
                raise OutboundRefusedError(FETCH_FAILED, code="fetch_failed") from exc
            with response:
                if response.is_redirect and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code >= 400:
                    raise OutboundRefusedError(
                        FETCH_STATUS % response.status_code, code="fetch_status"
                    )
                content = _read_capped(response, max_bytes)
                return FetchResult(
                    url=url,
                    status=response.status_code,
                    content=content,
                    content_type=response.headers.get("Content-Type", ""),
                )
    raise OutboundRefusedError(FETCH_TOO_MANY_REDIRECTS, code="fetch_redirects")


def _read_capped(response, max_bytes: int, sink: BinaryIO | None = None) -> bytes:
    """The body, at most `max_bytes` of it; written to `sink` instead when given."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise OutboundRefusedError(FETCH_TOO_LARGE, code="fetch_too_large")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise OutboundRefusedError(FETCH_TOO_LARGE, code="fetch_too_large")
            if sink is None:
                chunks.append(chunk)
            else:
                sink.write(chunk)
    except requests.RequestException as exc:
        raise OutboundRefusedError(FETCH_FAILED, code="fetch_failed") from exc
    return b"".join(chunks)


@dataclass(frozen=True)
class OutboundResponse:
    """An API's answer, whatever its status; header names are lower case."""

    url: str
    status: int
    content: bytes
    headers: dict[str, str]

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class OutboundSession:
    """Several requests to customer-supplied URLs, over kept-alive connections.

    Every request is checked like `send` checks one: the URL's host is
    resolved and refused if private, each time. A connection is reused only
    for the same host at the same checked address, so a changed DNS answer
    gets a new, newly checked connection rather than the old one.
    """

    def __init__(self):
        self._sessions: dict[tuple[str, str | None], requests.Session] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()

    def _session(self, host: str, address: str | None) -> requests.Session:
        session = self._sessions.get((host, address))
        if session is None:
            session = requests.Session()
            session.trust_env = False
            if address is not None:
                session.mount("https://", _PinnedAdapter(host, address))
            self._sessions[(host, address)] = session
        return session

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict | None = None,
        params: dict | None = None,
        data: dict | bytes | None = None,
        json: object = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sink: BinaryIO | None = None,
    ) -> OutboundResponse:
        """Send one request as the module function `send` does.

        With a `sink` (a binary file) the body is written there as it arrives
        and the response's `content` is empty: an answer too large to hold
        in memory can then be read from the file a piece at a time.
        """
        host, address = check_url(url)
        session = self._session(host, address)
        try:
            response = session.request(
                method,
                url,
                headers=headers or {},
                params=params,
                data=data,
                json=json,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            logger.warning("outbound request failed: %s", type(exc).__name__)
            raise OutboundRefusedError(FETCH_FAILED, code="fetch_failed") from exc
        with response:
            content = _read_capped(response, max_bytes, sink)
            return OutboundResponse(
                url=url,
                status=response.status_code,
                content=content,
                headers={k.lower(): v for k, v in response.headers.items()},
            )


def send(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    params: dict | None = None,
    data: dict | bytes | None = None,
    json: object = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> OutboundResponse:
    """Send one API request to a customer-supplied URL under the rules above.

    Unlike `fetch`, every status comes back to the caller, since an API client
    acts on 401, 429 and `Retry-After`. Redirects are not followed: an API
    answering with one is answered as it is, so a POST is never replayed to a
    host nobody checked.
    """
    with OutboundSession() as session:
        return session.send(
            method,
            url,
            headers=headers,
            params=params,
            data=data,
            json=json,
            timeout=timeout,
            max_bytes=max_bytes,
        )
