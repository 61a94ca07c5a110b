"""A pass killed with SIGKILL (while fetching pages, or once all pages are in: judging and writing) leaves a
DuckDB file that opens cleanly, and the next pass ends with exactly the rows a clean pass makes; two passes
started at once on one file make exactly those rows too."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from storywatch.flows.monitor import monitor_story
from storywatch.demo.sample_site import DemoSite
from storywatch.extractors.story import load_story
from tests.conftest import ROOT, SEED_STORY, comparable_views, make_story, site_response


@pytest.fixture(scope="module")
def slow_site():
    """The sample site, with every article page taking 0.15 s; counts pages served."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    site = DemoSite(load_story(SEED_STORY).seeds, f"http://127.0.0.1:{server.port}")
    served = {"pages": 0, "feeds": 0}
    lock = threading.Lock()

    def handler(request):
        if request.path.startswith("/feeds/"):
            with lock:
                served["feeds"] += 1
        else:
            time.sleep(0.15)
            with lock:
                served["pages"] += 1
        return site_response(site, request)

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
    return comparable_views(db)


def _start_pass(story: Path, db: Path, *args: str, output: int = subprocess.DEVNULL,
                wrapper: tuple[str, ...] = (), home: Path | None = None) -> subprocess.Popen:
    """`storywatch run` in its own OS process, against the session's Prefect API, with its own
    PREFECT_HOME (`home`, else beside the database); `output` is where its stdout and stderr
    (merged) go; `wrapper` is a command the pass runs under."""
    from prefect.settings import PREFECT_API_URL

    home = home or db.parent / "prefect-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(home),
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1"}
    return subprocess.Popen(
        [*wrapper, sys.executable, "-m", "storywatch.cli", "run", "--story", str(story), "--db", str(db),
         "--allow-private-hosts", *args],
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
    )


def _children(pid: int) -> list[int]:
    """PIDs of the processes whose parent is `pid` (extraction workers and their helpers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_when(proc: subprocess.Popen, condition, delay: float = 0.0, timeout: float = 120) -> list[int] | None:
    """SIGKILL `proc` `delay` seconds after `condition()` holds; returns the PIDs of its child
    processes at that moment, or None if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        if condition():
            time.sleep(delay)
            if proc.poll() is not None:
                return None
            children = _children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return children
        time.sleep(0.005)
    proc.kill()
    return None


PAGES = 24  # the sample site's first pass


@pytest.mark.parametrize("moment", ["polling feeds", "fetching pages", "judging and writing", "random"])
def test_sigkill_then_rerun_matches_a_clean_pass(prefect_harness, slow_site, reference, tmp_path, moment):
    """Killed at a moment of the pass (for "random", after a page count drawn at random, or once
    all pages are in, after a random delay), then run again: the views equal a clean pass's."""
    site, served = slow_site
    story = make_story(tmp_path, site.feed_urls())
    db = tmp_path / "killed.duckdb"
    pages, feeds = served["pages"], served["feeds"]
    rng = random.Random()
    after, delay = {"polling feeds": (0, 0.0), "fetching pages": (5, 0.0), "judging and writing": (PAGES, 0.05),
                    "random": (rng.randint(1, PAGES), rng.uniform(0, 0.5))}[moment]
    print(f"kill after {after} pages + {delay:.2f} s")  # shown when the test fails
    proc = _start_pass(story, db)
    if after == 0:
        killed = _kill_when(proc, lambda: served["feeds"] > feeds)
    else:
        killed = _kill_when(proc, lambda: served["pages"] - pages >= after, delay)
    assert killed is not None, "the pass ended before it could be killed"
    orphans_until = time.monotonic() + 10
    while any(_alive(pid) for pid in killed) and time.monotonic() < orphans_until:
        time.sleep(0.2)
    assert not [pid for pid in killed if _alive(pid)], "extraction workers outlived the killed pass"
    # The file opens cleanly and holds no half-written pass: no verdicts, or all of them.
    con = duckdb.connect(str(db))
    verdicts = con.execute("SELECT count(*) FROM verdicts").fetchone()[0] if con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'verdicts'").fetchone()[0] else 0
    con.close()
    assert verdicts in (0, len(reference["judgments"]))
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert comparable_views(db) == reference
    statuses = [s for (s,) in duckdb.connect(str(db), read_only=True).execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    assert statuses in (["completed"], ["interrupted", "completed"])  # a killed run is not left "running"


@pytest.mark.parametrize("wait", ["90", "0"])
def test_two_concurrent_passes_on_one_file(prefect_harness, slow_site, reference, tmp_path, wait):
    """Two `storywatch run` processes at once on one DuckDB file: one writes the pass; the other
    waits for it and finds nothing new, or (no wait) stops with one line and no traceback."""
    site, _ = slow_site
    story = make_story(tmp_path, site.feed_urls())
    db = tmp_path / "shared.duckdb"
    procs = [_start_pass(story, db, "--wait", wait, output=subprocess.PIPE) for _ in range(2)]
    outcomes = [(proc.communicate(timeout=150)[0], proc.returncode) for proc in procs]
    codes = sorted(code for _, code in outcomes)
    assert codes == ([0, 0] if wait == "90" else [0, 2]), outcomes
    for output, code in outcomes:
        assert "Traceback" not in output and "Encountered exception" not in output, output
        if code:
            assert output.strip().splitlines() == [
                f"error: {db}: in use by another storywatch process (DuckDB allows one writer)"], output
    assert comparable_views(db) == reference
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("SELECT status, new, finished_at IS NOT NULL FROM runs ORDER BY started_at").fetchall()
    con.close()
    new = sum(verdict == "new" for _, verdict, *_ in reference["judgments"])
    assert runs == [("completed", new, True), ("completed", 0, True)][: codes.count(0)]


# Runs a command on a small file system of its own (a mount namespace, so no root needed where
# user namespaces are enabled) holding a copy of the database, then copies the database back out.
FULL_DISK = """T=$1; SRC=$2; OUT=$3; SIZE=$4; shift 4
mount -t tmpfs -o "size=$SIZE" tmpfs "$T" && cp "$SRC" "$T/" || exit 99
"$@"; rc=$?; cp "$T"/* "$OUT"/; exit $rc"""


def test_disk_full_is_one_line_saves_nothing_and_the_next_pass_completes(prefect_harness, slow_site, reference, tmp_path):
    from storywatch.warehouse.store import Warehouse

    site, _ = slow_site
    story = make_story(tmp_path, site.feed_urls())
    db = tmp_path / "full.duckdb"
    Warehouse.open(db).close()  # an empty, migrated file
    before = comparable_views(db)
    tiny, out = tmp_path / "tiny", tmp_path / "out"
    tiny.mkdir(), out.mkdir()
    room = db.stat().st_size + 128 * 1024  # the file and a little more: not enough for a pass
    wrapper = ("unshare", "--user", "--map-root-user", "--mount", "sh", "-c", FULL_DISK, "sh", str(tiny), str(db), str(out),
               str(room))
    proc = _start_pass(story, tiny / db.name, output=subprocess.PIPE, wrapper=wrapper, home=tmp_path / "prefect-home")
    output, _ = proc.communicate(timeout=300)
    lines = output.strip().splitlines()
    assert proc.returncode not in (0, 99), output[-2000:]
    assert lines[-1].startswith("error: ") and "cannot write this pass (nothing was saved)" in lines[-1], output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    assert comparable_views(out / db.name) == before  # nothing half-written
    monitor_story(story_dir=str(story), db_path=str(out / db.name), allow_private_hosts=True)  # room again
    assert comparable_views(out / db.name) == reference
