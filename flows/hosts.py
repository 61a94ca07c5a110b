"""Politeness to each host, shared by every fetch of the process (all feeds, all task threads):
at most `per_host` requests in flight to one host (name and port), at least `interval` seconds between the starts
of two (longer if its robots.txt asks with Crawl-delay), and a host that answered 429 or 503
with a Retry-After is left alone that long; other hosts go on at their own pace. A host that
asks for more than `MAX_WAIT_IN_PASS` seconds is not waited for within the pass: its requests
fail at once as transient, and the feed's next poll is put off (storywatch.feedhealth).

robots.txt (RFC 9309) is read once per origin and kept for a day, parsed by protego (Scrapy's
parser: wildcards, Allow/Disallow precedence, Crawl-delay)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

from storywatch.urls import server_of

# Longer waits than this are not spent inside a pass; the host is tried on a later pass.
MAX_WAIT_IN_PASS = 60.0
# A robots.txt Crawl-delay above this is held to it (a monitor polls, it does not crawl).
MAX_CRAWL_DELAY = 30.0
ROBOTS_TTL = 24 * 3600.0  # RFC 9309: a cached robots.txt should not be used for more than 24 hours
ROBOTS_TOKEN = "storywatch"  # the product token robots.txt groups are matched against
SENT_POLL = 0.002  # seconds between looks while the host's previous request is still leaving


class HostWait(Exception):
    """The host asked us to wait longer than a pass waits; `seconds` is how long is left."""

    def __init__(self, host: str, seconds: float) -> None:
        super().__init__(f"{host} asked to be left alone for {seconds:.0f}s more (Retry-After)")
        self.seconds = seconds


@dataclass
class _Host:
    slots: threading.BoundedSemaphore
    next_start: float = 0.0  # monotonic time before which no request to the host may start
    crawl_delay: float = 0.0
    unsent: object | None = None  # the turn taken whose request has not reached the wire yet


@dataclass
class HostGate:
    """Per-host slots and pacing. `clock` and `sleep` are injectable for the pure tests."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _hosts: dict[tuple[str, int], _Host] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _host(self, host: str, limit: int) -> _Host:
        with self._lock:
            return self._hosts.setdefault((host, limit), _Host(threading.BoundedSemaphore(limit)))

    @contextmanager
    def turn(self, url: str, limit: int, interval: float) -> Iterator[float]:
        """Hold one of the host's `limit` slots once its pacing allows a start; yields the seconds
        spent waiting (the queue's, not the server's: no time limit counts them)."""
        host = server_of(url)
        state = self._host(host, limit)
        queued, mine = self.clock(), object()
        with state.slots:
            while True:  # a start is claimed when it happens, and only once the previous one
                with self._lock:  # is on the wire (`sent`): a busy process cannot bunch two up
                    now = self.clock()
                    wait = SENT_POLL if state.unsent is not None else state.next_start - now
                    if wait > MAX_WAIT_IN_PASS:
                        raise HostWait(host, wait)
                    if wait <= 0:
                        state.next_start, state.unsent = now + max(interval, state.crawl_delay), mine
                        break
                self.sleep(wait)
            try:
                yield self.clock() - queued
            finally:
                with self._lock:  # a request that never reached the wire (refused, failed to connect)
                    if state.unsent is mine:
                        state.unsent = None

    def hold_off(self, url: str, seconds: float) -> None:
        """The host answered 429/503 with Retry-After: no request to it starts for `seconds`."""
        self._push(url, lambda state: seconds)

    def sent(self, url: str, interval: float) -> None:
        """A request's headers are on the wire: the host's next start may be claimed, `interval`
        from now. A busy process can send a while after a thread got its turn (the thread waits
        for the GIL); counting from here keeps that late request from bunching up with the next."""
        self._push(url, lambda state: max(interval, state.crawl_delay), sent=True)

    def _push(self, url: str, seconds: Callable[[_Host], float], sent: bool = False) -> None:
        host = server_of(url)
        with self._lock:
            for (name, _limit), state in self._hosts.items():
                if name == host:
                    state.next_start = max(state.next_start, self.clock() + seconds(state))
                    state.unsent = None if sent else state.unsent

    def set_crawl_delay(self, url: str, limit: int, seconds: float) -> None:
        self._host(server_of(url), limit).crawl_delay = min(max(seconds, 0.0), MAX_CRAWL_DELAY)


@dataclass(frozen=True)
class RobotsRules:
    """One origin's robots.txt, or `None` rules: every path allowed (RFC 9309: a 4xx means none)."""

    rules: Protego | None

    def refusal(self, url: str) -> str | None:
        if self.rules is None or self.rules.can_fetch(url, ROBOTS_TOKEN):
            return None
        return f"robots.txt of {origin(url)} disallows {urlsplit(url).path or '/'}"

    def crawl_delay(self) -> float:
        return float(self.rules.crawl_delay(ROBOTS_TOKEN) or 0.0) if self.rules else 0.0

    @classmethod
    def from_response(cls, status: int | None, body: bytes) -> RobotsRules:
        """Rules from a robots.txt answer already known to be final (not 5xx or unreachable)."""
        if status is not None and 200 <= status < 300:
            return cls(Protego.parse(body.decode("utf-8", errors="replace")))
        return cls(None)


@dataclass
class RobotsCache:
    """Each origin's rules, fetched by `load(robots_url) -> RobotsRules` at most once a day;
    concurrent askers of one origin wait for the one fetch."""

    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, RobotsRules]] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rules(self, url: str, load: Callable[[str], RobotsRules]) -> RobotsRules:
        key = origin(url)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._entries.get(key)
            if cached and self.clock() - cached[0] < ROBOTS_TTL:
                return cached[1]
            rules = load(f"{key}/robots.txt")  # raises when unreachable: nothing is cached
            self._entries[key] = (self.clock(), rules)
            return rules


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# The process's own: every Fetcher shares them, so limits hold across feeds, tasks and passes.
HOSTS = HostGate()
ROBOTS = RobotsCache()
