"""A pass killed with SIGKILL (while fetching pages, or once all pages are in: judging and writing) leaves a
DuckDB file that opens cleanly, and the next pass ends with exactly the rows a clean pass makes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from flows.monitor import monitor_story
from storywatch.demo.site import DemoSite
from storywatch.story import load_story
from tests.conftest import ROOT, SEED_STORY, make_story


def _comparable(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "judgments": con.execute(
                "SELECT url, verdict, duplicate_of, relevance, versions, title FROM judgments ORDER BY url").fetchall(),
            "daily": con.execute("SELECT * FROM daily_coverage").fetchall(),
            "versions": con.execute("SELECT article_id, version, content_hash FROM page_versions ORDER BY 1, 2").fetchall(),
            "entries": con.execute("SELECT feed_url, guid, article_id FROM entries ORDER BY 1, 2").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def slow_site():
    """The sample site, with every article page taking 0.15 s; counts pages served."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    site = DemoSite(load_story(SEED_STORY).seeds, f"http://127.0.0.1:{server.port}")
    served = {"pages": 0}
    lock = threading.Lock()

    def handler(request):
        target = request.full_path if request.query_string else request.path
        if not request.path.startswith("/feeds/"):
            time.sleep(0.15)
            with lock:
                served["pages"] += 1
        status, headers, body = site.respond(target, request.headers.get("If-None-Match"))
        return Response(body, status=status, headers=headers)

    import re
    server.expect_request(re.compile(".*")).respond_with_handler(handler)
    yield site, served
    server.stop()


@pytest.fixture(scope="module")
def reference(prefect_harness, slow_site, tmp_path_factory):
    site, _ = slow_site
    tmp = tmp_path_factory.mktemp("ref")
    story = make_story(tmp, site.feed_urls())
    db = tmp / "ref.duckdb"
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    return _comparable(db)


def _start_pass(story: Path, db: Path) -> subprocess.Popen:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "storywatch.cli", "run", "--story", str(story), "--db", str(db), "--allow-private-hosts"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _kill_when(proc: subprocess.Popen, condition, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.kill()
    return False


@pytest.mark.parametrize("moment", ["fetching pages", "judging and writing"])
def test_sigkill_then_rerun_matches_a_clean_pass(prefect_harness, slow_site, reference, tmp_path, moment):
    site, served = slow_site
    story = make_story(tmp_path, site.feed_urls())
    db = tmp_path / "killed.duckdb"
    wal = db.with_name(db.name + ".wal")
    start = served["pages"]
    proc = _start_pass(story, db)
    if moment == "fetching pages":
        killed = _kill_when(proc, lambda: served["pages"] - start >= 5)
    else:
        killed = _kill_when(proc, lambda: served["pages"] - start >= 20 and wal.exists())
    assert killed, "the pass ended before it could be killed"
    # The file opens cleanly and holds no half-written pass: no verdicts, or all of them.
    con = duckdb.connect(str(db))
    verdicts = con.execute("SELECT count(*) FROM verdicts").fetchone()[0] if con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'verdicts'").fetchone()[0] else 0
    con.close()
    assert verdicts in (0, len(reference["judgments"]))
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert _comparable(db) == reference
