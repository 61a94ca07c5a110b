"""The one HTTP client: timeouts, a size cap on the decoded body, bounded redirects followed by
hand so every hop passes the private-address guard (checked after DNS resolution), and a
clear User-Agent. Every outcome, failures included, comes back as a `FetchResult`."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from storywatch.feedhealth import parse_retry_after
from storywatch.flows import hosts
from storywatch.flows.hosts import HostWait, RobotsRules
from storywatch.models import FetchResult
from storywatch.urls import address_refusal, scheme_refusal

log = logging.getLogger("storywatch.http")

# Statuses worth retrying on a later attempt; everything else is a verdict on the URL.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def media_type(content_type: str) -> str:
    """`text/html` of `text/html; charset=utf-8` ('' when the server sent none)."""
    return content_type.split(";")[0].strip().lower()


class TransientFetchError(Exception):
    """A failure that may pass on retry: `kind` is "soft" (5xx, 429, timeouts) or "temporary"
    (DNS, refused or reset connections); `retry_after` is the server's Retry-After in seconds."""

    def __init__(self, message: str, kind: str = "soft", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str
    timeout_seconds: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private_hosts: bool = False
    allow_hosts: frozenset[str] = frozenset()  # exempt from the private-address guard
    per_host: int = 2  # requests in flight to one host at once, across every feed and task of the process
    min_interval: float = 0.0  # seconds between the starts of two requests to one host
    robots: bool = True  # article pages (never feeds) are fetched only where robots.txt allows


class _Refused(Exception):
    """A connection the address guard stopped at connect time."""


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves each host once, at connect time, refuses it if any address it resolves to is
    private (the guard's rules), and connects to the address it checked. A DNS answer that
    changes between a check and the connection (rebinding) can then never reach a private
    address: there is no second lookup."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:  # noqa: ANN001 - httpcore's own type
        if self.policy.allow_private_hosts or host in self.policy.allow_hosts:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise _Refused(f"{host} resolves to {reason}")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class Fetcher:
    """Fetches URLs under a `FetchPolicy`. Use as a context manager; safe to share across threads."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
        transport = httpx.HTTPTransport(limits=limits, trust_env=False)
        # The same pool httpx builds, with the guarded backend: the address checked is the address used.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy))
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(policy.timeout_seconds, connect=min(10.0, policy.timeout_seconds)),
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
            transport=transport,
            trust_env=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def get(self, url: str, headers: dict[str, str] | None = None, accept: str = "*/*",
            media_types: tuple[str, ...] = (), robots: bool = False) -> FetchResult:
        """GET `url`, following up to `max_redirects` redirects. Raises TransientFetchError only
        for failures worth retrying; every other outcome is returned. With `media_types`, a
        response of another declared type comes back without its body (never downloaded). With
        `robots` (and the policy's), every hop must be allowed by its origin's robots.txt."""
        current = url
        request_headers = {"Accept": accept, **(headers or {})}
        deadline = time.monotonic() + self.policy.timeout_seconds * 2
        for _hop in range(self.policy.max_redirects + 1):
            if time.monotonic() > deadline:  # slow redirect hops count against the same limit
                raise TransientFetchError(f"{url} took longer than {self.policy.timeout_seconds * 2:.0f}s", "soft")
            try:
                refusal = self._refusal(current)
                if refusal:
                    log.warning("refused %s: %s", current, refusal)
                    return FetchResult(url, current, None, error=f"blocked: {refusal}", blocked=True)
                disallowed = self._robots_refusal(current) if robots and self.policy.robots else None
                if disallowed:
                    log.info("not fetched %s: %s", current, disallowed)
                    return FetchResult(url, current, None, error=f"blocked: {disallowed}", blocked=True)
                with hosts.HOSTS.turn(current, self.policy.per_host, self.policy.min_interval) as waited, \
                        self._client.stream("GET", current, headers=request_headers,
                                            extensions={"trace": self._on_the_wire(current)}) as response:
                    deadline += waited
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        if not location:
                            return FetchResult(url, current, response.status_code, error="redirect without Location")
                        current = urljoin(current, location)
                        request_headers.pop("If-None-Match", None)
                        request_headers.pop("If-Modified-Since", None)
                        continue
                    if response.status_code in TRANSIENT_STATUSES:
                        retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(timezone.utc))
                        if retry_after and response.status_code in (429, 503):
                            hosts.HOSTS.hold_off(current, retry_after)  # that host only
                        raise TransientFetchError(f"HTTP {response.status_code} from {current}", "soft", retry_after)
                    content_type = response.headers.get("content-type", "")
                    declared = media_type(content_type)
                    if media_types and declared and not declared.startswith(media_types):
                        return FetchResult(url, str(response.url), response.status_code, content_type=content_type)
                    body, error = self._read_capped(response, deadline)
                    return FetchResult(
                        url=url,
                        final_url=str(response.url),
                        status=response.status_code,
                        body=body,
                        content_type=content_type,
                        etag=response.headers.get("etag"),
                        last_modified=response.headers.get("last-modified"),
                        error=error or (None if response.status_code < 400 else f"HTTP {response.status_code}"),
                    )
            except HostWait as exc:
                raise TransientFetchError(f"{exc}: {current}", "soft", exc.seconds) from None
            except _Refused as exc:  # the guard, at connect time (the pre-check saw another answer)
                log.warning("refused %s: %s", current, exc)
                return FetchResult(url, current, None, error=f"blocked: {exc}", blocked=True)
            except httpx.TimeoutException as exc:
                raise TransientFetchError(f"{type(exc).__name__} fetching {current}: {exc}", "soft") from None
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise TransientFetchError(f"{type(exc).__name__} fetching {current}: {exc}", "temporary") from None
            except (httpx.HTTPError, ValueError) as exc:  # ValueError: a host IDNA cannot encode
                return FetchResult(url, current, None, error=f"{type(exc).__name__} fetching {current}: {exc}")
        return FetchResult(url, current, None, error=f"more than {self.policy.max_redirects} redirects")

    def _on_the_wire(self, url: str) -> Callable[[str, dict], None]:
        """httpcore's trace hook for one request: tells the host gate when its headers are sent."""
        def trace(event: str, _info: dict) -> None:
            if event.endswith("send_request_headers.complete"):
                hosts.HOSTS.sent(url, self.policy.min_interval)
        return trace

    def _robots_refusal(self, url: str) -> str | None:
        """Why `url`'s robots.txt forbids it, or None. Its Crawl-delay paces the host. A robots.txt
        that cannot be read for now (5xx, network) raises TransientFetchError: the page waits."""
        rules = hosts.ROBOTS.rules(url, self._load_robots)
        delay = rules.crawl_delay()
        if delay:
            hosts.HOSTS.set_crawl_delay(url, self.policy.per_host, delay)
        return rules.refusal(url)

    def _load_robots(self, robots_url: str) -> RobotsRules:
        result = self.get(robots_url, accept="text/plain, */*;q=0.5")
        if result.status is None and not result.blocked:
            raise TransientFetchError(f"robots.txt unreadable: {result.error}", "temporary")
        return RobotsRules.from_response(result.status, result.body or b"")

    def _read_capped(self, response: httpx.Response, deadline: float) -> tuple[bytes, str | None]:
        """The decoded body, stopping at the size cap or the overall deadline (slow drip)."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.policy.max_bytes:
                return b"", f"body over {self.policy.max_bytes} bytes"
            if time.monotonic() > deadline:
                raise TransientFetchError(f"{response.url} took longer than {self.policy.timeout_seconds * 2:.0f}s", "soft")
            chunks.append(chunk)
        return b"".join(chunks), None

    def _refusal(self, url: str) -> str | None:
        refusal = scheme_refusal(url)
        if refusal or self.policy.allow_private_hosts:
            return refusal
        host = urlsplit(url).hostname or ""
        if host in self.policy.allow_hosts:
            return None
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            return None  # let the client report the DNS failure as a fetch error
        for info in infos:
            reason = address_refusal(str(info[4][0]))
            if reason:
                return f"{host} resolves to {reason}"
        return None
