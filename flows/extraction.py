"""Article extraction off the fetching threads: a pool of worker processes, one per core, so
trafilatura's CPU-bound work runs on every core while threads wait on the network.

The pool is started on first use and lives as long as the process (every pass in a `serve`
process reuses it). Where there is one core, or the caller is itself a daemon process that may
not have children (a Dask worker), pages are extracted in the calling thread instead.

A new pool must first answer a trivial call. Workers that die before that (they cannot even
import storywatch, as when a folder on `sys.path` shadows a standard-library module) fail the
whole pass with `ExtractionError`; a worker that dies later took a page down with it, and only
that page fails."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from storywatch.errors import ExtractionError
from storywatch.extractors.article import extract_article
from storywatch.models import Article, FeedEntry

# How long a new pool may take to answer its first call (a spawned worker imports trafilatura,
# lxml and the language model: about a second here, far more on a loaded machine).
START_TIMEOUT = 120.0

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def workers() -> int:
    """How many extraction processes this process uses (0: extraction runs in the caller)."""
    if multiprocessing.current_process().daemon:
        return 0
    cores = usable_cores()
    return cores if cores > 1 else 0


def extract(html: bytes, url: str, entry: FeedEntry | None, fetched_at: datetime) -> Article:
    """`extract_article` in a worker process (inline when `workers()` is 0). A worker that dies
    takes only its own pages down (they raise BrokenProcessPool); the next call starts a new pool."""
    if not html:  # nothing to parse: the feed entry's text, no process hop needed
        return extract_article(html, url, entry, fetched_at)
    pool = _shared_pool()
    if pool is None:
        return extract_article(html, url, entry, fetched_at)
    try:
        return pool.submit(extract_article, html, url, entry, fetched_at).result()
    except BrokenProcessPool:
        _discard(pool)
        raise


def _shared_pool() -> ProcessPoolExecutor | None:
    global _pool
    with _lock:
        if _pool is None and workers():
            # spawn, not fork: the caller has threads (Prefect's, httpx's) that fork would copy mid-flight.
            pool = ProcessPoolExecutor(max_workers=workers(), mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_follow_parent, initargs=(os.getpid(),))
            try:
                pool.submit(_ready).result(timeout=START_TIMEOUT)
            except (BrokenProcessPool, TimeoutError) as exc:
                pool.shutdown(wait=False, cancel_futures=True)
                raise ExtractionError(
                    f"extraction workers could not start ({type(exc).__name__}: {exc or 'no answer'}); "
                    "their own error is on this process's stderr") from None
            _pool = pool
        return _pool


def _ready() -> bool:
    """A new worker's first call: it answers once it has imported what extraction needs."""
    return True


def _follow_parent(parent: int) -> None:
    """In a worker: exit when the pass that started it is gone (even SIGKILLed, which no
    clean-up in the parent can catch), instead of idling on as an orphan."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)
