"""Nothing a pass started outlives it: `storywatch run` in its own OS process, with Prefect's
temporary server (no PREFECT_API_URL), against a slow site on 127.0.0.1, stopped midway by
SIGKILL, SIGINT or SIGTERM. Afterwards no process it started is alive, the run is `interrupted`,
nothing of the pass was saved, and the next pass runs on the same file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from storywatch.demo.sample_site import DemoSite
from storywatch.extractors.story import load_story
from storywatch.flows.lifeline import descendants
from tests.conftest import SEED_STORY, make_story, site_response


@pytest.fixture()
def slow_site():
    """The sample site with every article page taking 1 s; counts the pages served. One per test:
    requests a killed pass left in flight must not count for the next."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    site = DemoSite(load_story(SEED_STORY).seeds, f"http://127.0.0.1:{server.port}")
    served = {"pages": 0}
    lock = threading.Lock()

    def handler(request):
        if not request.path.startswith("/feeds/"):
            with lock:
                served["pages"] += 1
            time.sleep(1.0)
        return site_response(site, request)

    server.expect_request(re.compile(".*")).respond_with_handler(handler)
    yield site, served
    server.stop()


def _start(tmp_path: Path, site) -> tuple[subprocess.Popen, Path]:
    story = make_story(tmp_path, site.feed_urls())
    db = tmp_path / "data" / "sw.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_HOME": str(tmp_path / "prefect-home")}
    proc = subprocess.Popen([sys.executable, "-m", "storywatch", "run", "--story", str(story), "--db", str(db),
                             "--allow-private-hosts"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    return proc, db


def _stop_midway(proc: subprocess.Popen, served: dict, sig: int) -> dict[int, int]:
    """Wait until pages are being fetched, note the run's processes, send `sig`; returns them."""
    start = served["pages"]
    deadline = time.monotonic() + 120
    while served["pages"] < start + 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the pass never started fetching"
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    started = descendants(proc.pid)
    commands = [_command(pid) for pid in started]
    assert any("uvicorn" in c for c in commands), f"no temporary Prefect server among {commands}"
    os.kill(proc.pid, sig)
    return started


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _gone(processes: dict[int, int], timeout: float = 15.0) -> list[int]:
    """Those of `processes` (PID -> start time) still alive after `timeout` seconds."""
    def alive(pid: int, started: int) -> bool:
        try:
            raw = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            return False
        fields = raw[raw.rindex(b")") + 2:].split()
        return int(fields[19]) == started and fields[0] != b"Z"

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [pid for pid, started in processes.items() if alive(pid, started)]
        if not left:
            return []
        time.sleep(0.2)
    return left


def _runs(db: Path) -> list[tuple]:
    for _ in range(100):
        try:
            con = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException:
            time.sleep(0.1)
    try:
        return con.execute("SELECT status, new, pages_fetched FROM runs ORDER BY started_at").fetchall()
    finally:
        con.close()


def test_a_sigkilled_run_leaves_no_process_and_its_run_interrupted(slow_site, tmp_path):
    site, served = slow_site
    proc, db = _start(tmp_path, site)
    started = _stop_midway(proc, served, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert _gone(started) == []  # the temporary Prefect server and the extraction workers too
    assert _runs(db) == [("interrupted", None, None)]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM verdicts").fetchone() == (0,)  # nothing half-written
    con.close()


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_a_run_in_seconds_with_one_line(slow_site, tmp_path, sig, code):
    site, served = slow_site
    proc, db = _start(tmp_path, site)
    started = _stop_midway(proc, served, sig)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 5
    assert proc.returncode == code
    line = f"storywatch run interrupted by {signal.Signals(sig).name}: stopping; nothing of an unfinished pass is saved"
    assert [x for x in err.splitlines() if "interrupted by" in x] == [f"{line} ({db})"]
    assert _gone(started) == []
    assert _runs(db) == [("interrupted", None, None)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_serve_leaves_nothing_running_however_it_is_stopped(slow_site, tmp_path, sig):
    """`serve` with its own local Prefect server and a pass under way: stopped by SIGTERM or
    SIGKILL, no process it started (server, runner, the pass and its workers) stays alive."""
    site, served = slow_site
    story = make_story(tmp_path, site.feed_urls())
    db = tmp_path / "data" / "sw.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "storywatch", "serve", "--story", str(story), "--db", str(db),
                             "--every", "10s", "--allow-private-hosts"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while served["pages"] < 2:  # a scheduled pass is fetching pages
            assert proc.poll() is None and time.monotonic() < deadline, "serve never started a pass"
            time.sleep(0.5)
        started = descendants(proc.pid)
        commands = [_command(pid) for pid in started]
        assert any("prefect" in c and "server" in c for c in commands), commands
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        assert _gone(started) == []
    finally:
        if proc.poll() is None:
            proc.kill()
