"""Scheduled runs, end to end, the way users run them: `storywatch serve` firing passes on its own
schedule, a `prefect deploy` of prefect.yaml's deployment picked up by a process worker, and a
pass whose extraction workers cannot start. Each runs real processes against the sample site on
127.0.0.1 and checks the warehouse afterwards: pages extracted and judged, not only runs
"Completed"."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import yaml
from prefect import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Running

from storywatch.demo.sample_site import DemoSite, serve
from storywatch.demo.story_folder import write_story
from storywatch.extractors.story import load_story, packaged_stories
from storywatch.flows.serve import local_prefect_server

ROOT = Path(__file__).resolve().parents[1]
STORYWATCH = [sys.executable, "-m", "storywatch"]
# A folder on sys.path that shadows the standard library, as `flows/http.py` once did: a process
# that imports `http.client` after this is on its path dies at import.
SHADOW = 'raise ImportError("shadowed standard library: http")\n'


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """A real `prefect server start` on a free loopback port, shared by this module's processes."""
    with local_prefect_server(tmp_path_factory.mktemp("prefect-home")) as api:
        yield api


@pytest.fixture()
def site():
    seeds = load_story(packaged_stories()["meta-open-models"]).seeds
    server, demo = serve(lambda base: DemoSite(seeds, base))
    yield demo
    server.close()


def _story(folder: Path, site: DemoSite, name: str = "meta-open-models") -> Path:
    """The seed story against the sample site, in a folder called `name`: the story's slug, and
    its deployment's name, so tests sharing this module's Prefect server serve one each."""
    story = write_story(folder, packaged_stories()["meta-open-models"], site.feed_urls(),
                        'title = "Meta open-sources its new models"\nfeeds = "feeds.txt"\n'
                        "[fetch]\nretries = 0\ntimeout_seconds = 10\nmin_interval_seconds = 0\n")
    return story.rename(folder / name)


def _env(api: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING", **extra)
    if api:
        env["PREFECT_API_URL"] = api
    return env


def _rows(db: Path, sql: str, deadline: float = 30.0) -> list[tuple]:
    """Read the warehouse between passes (a pass holds the file while it writes)."""
    end = time.monotonic() + deadline
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        except duckdb.Error:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


def _wait_for(db: Path, sql: str, enough, timeout: float, proc: subprocess.Popen | None = None) -> list[tuple]:
    """Poll `sql` until `enough(rows)`; fail with what was seen if it never is."""
    end, rows = time.monotonic() + timeout, []
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"process exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        if db.exists():
            rows = _rows(db, sql)
            if enough(rows):
                return rows
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f}s; last rows: {rows}")


def _stop(proc: subprocess.Popen) -> str:
    """SIGINT the process group (as Ctrl-C would), then make sure nothing of it is left."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out or ""


def _judged(db: Path) -> dict[str, int]:
    return dict(_rows(db, "SELECT verdict, count(*) FROM judgments GROUP BY verdict"))


RUNS = "SELECT status, extracted, new, fetch_failed FROM runs ORDER BY started_at"


def test_serve_fires_passes_that_extract_and_judge_pages(prefect_api, site, tmp_path):
    story, db = _story(tmp_path, site, "serve-story"), tmp_path / "serve.duckdb"
    proc = subprocess.Popen([*STORYWATCH, "serve", "--story", str(story), "--every", "10s", "--db", str(db),
                             "--allow-private-hosts"], cwd=tmp_path, env=_env(prefect_api), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(db, RUNS, lambda rows: any(r[0] == "completed" for r in rows), 240, proc)
        site.set_phase(2)  # one new article and one edit, for a later scheduled pass to find
        phase2 = next(p for p in site.pages if p.phase == 2)
        _wait_for(db, f"SELECT verdict FROM judgments WHERE url LIKE '%{phase2.slug}'", bool, 240, proc)
        runs = _rows(db, RUNS)
    finally:
        _stop(proc)
    completed = [r for r in runs if r[0] == "completed"]
    assert len(completed) >= 2
    assert completed[0][1] >= 15 and completed[0][2] > 0  # text extracted from pages, new coverage found
    verdicts = _judged(db)
    assert verdicts["new"] >= 5 and verdicts["off_topic"] >= 5 and verdicts["seed_copy"] == 2
    reasons = [r[0] for r in _rows(db, "SELECT reason FROM judgments WHERE verdict = 'fetch_failed'")]
    assert len(reasons) == 1 and not any("BrokenProcessPool" in r for r in reasons)  # the site's one 404
    assert _rows(db, f"SELECT verdict FROM judgments WHERE url LIKE '%{phase2.slug}'") == [("new",)]


def test_serve_runs_its_passes_on_dask_when_asked(prefect_api, site, tmp_path):
    """serve --task-runner dask: each scheduled pass runs as a subflow on a local Dask cluster;
    its tasks are that subflow's, and the pass stores what a threads pass stores."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    story, db = _story(tmp_path, site, "dask-story"), tmp_path / "dask.duckdb"
    proc = subprocess.Popen([*STORYWATCH, "serve", "--story", str(story), "--every", "10s", "--db", str(db),
                             "--allow-private-hosts", "--task-runner", "dask"], cwd=tmp_path, env=_env(prefect_api),
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        runs = _wait_for(db, RUNS, lambda rows: any(r[0] == "completed" for r in rows), 300, proc)
    finally:
        _stop(proc)
    assert runs[0][0] == "completed" and runs[0][1] >= 15 and runs[0][2] > 0
    with temporary_settings(updates={PREFECT_API_URL: prefect_api}), get_client(sync_client=True) as client:
        parents = [r for r in client.read_flow_runs() if r.parameters.get("db_path") == str(db.resolve())
                   and r.parameters.get("task_runner") == "dask"]
        children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[r.id for r in parents])))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [c.id for c in children]}))
    assert parents and children and {t.name.split("-")[0] for t in tasks} >= {"poll", "fetch"}


def test_a_restarted_serve_drops_the_passes_its_old_schedule_left_behind(prefect_api, site, tmp_path):
    """serve every 10 s, stopped for 35 s: Prefect keeps the old schedule's runs, late now. The
    restart on a new schedule drops them instead of running them first, one after another."""
    story, db = _story(tmp_path, site, "restart-story"), tmp_path / "restart.duckdb"

    def serve_every(every: str) -> subprocess.Popen:
        return subprocess.Popen([*STORYWATCH, "serve", "--story", str(story), "--every", every, "--db", str(db),
                                 "--allow-private-hosts"], cwd=tmp_path, env=_env(prefect_api), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)

    first = serve_every("10s")
    try:
        _wait_for(db, RUNS, lambda rows: any(r[0] == "completed" for r in rows), 240, first)
    finally:
        _stop(first)
    before = len(_rows(db, RUNS))
    with temporary_settings(updates={PREFECT_API_URL: prefect_api}), get_client(sync_client=True) as client:
        # A pass left Running, as by a serve killed mid-pass: it holds the deployment's one slot.
        deployment = client.read_deployment_by_name("monitor_story/restart-story")
        stale = client.create_flow_run_from_deployment(deployment.id, state=Running())
    time.sleep(35)  # the old schedule's next passes fall due while nothing serves
    second = serve_every("1h")
    try:
        time.sleep(75)  # leftovers, if any, would start within the runner's first polls and take ~15 s each
        after = len(_rows(db, RUNS))
    finally:
        out = _stop(second)
    dropped = re.search(r"dropped (\d+) pass\(es\) left scheduled by an earlier serve", out)
    assert dropped and int(dropped[1]) >= 2, out  # Prefect keeps at least three runs scheduled ahead
    assert after - before <= 1  # at most the new schedule's first pass
    assert re.search(r"marked [1-9]\d* pass\(es\) an earlier serve left unfinished as crashed", out), out
    with temporary_settings(updates={PREFECT_API_URL: prefect_api}), get_client(sync_client=True) as client:
        assert client.read_flow_run(stale.id).state.type == StateType.CRASHED


def test_a_deployment_from_prefect_yaml_runs_on_a_process_worker(prefect_api, site, tmp_path):
    """prefect.yaml's own deployment, its entrypoint unchanged, deployed to a local server and
    run by `prefect worker start`; only the story, database and pool point at the test's."""
    story, db = _story(tmp_path, site), tmp_path / "worker.duckdb"
    project = yaml.safe_load((ROOT / "prefect.yaml").read_text("utf-8"))
    deployment = project["deployments"][0]
    deployment["parameters"] = {"story_dir": str(story), "db_path": str(db), "allow_private_hosts": True}
    deployment["schedules"] = []
    deployment["work_pool"] = {"name": "storywatch-test", "work_queue_name": "default"}
    (tmp_path / "prefect.yaml").write_text(yaml.safe_dump(project), "utf-8")
    env = _env(prefect_api)

    def prefect(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "prefect", *args], cwd=tmp_path, env=env, text=True,
                              capture_output=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    prefect("work-pool", "create", "storywatch-test", "--type", "process", "--overwrite")
    prefect("--no-prompt", "deploy", "--all")
    prefect("deployment", "run", f"monitor_story/{deployment['name']}")
    worker = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "storywatch-test"],
                              cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        # A worker polls its pool every 15 s and each run starts a process: a slow CI machine needs room.
        runs = _wait_for(db, RUNS, lambda rows: any(r[0] == "completed" for r in rows), 420, worker)
    finally:
        _stop(worker)
    assert runs[0][0] == "completed" and runs[0][1] >= 15 and runs[0][2] > 0
    assert _judged(db)["new"] >= 5


def test_a_pass_whose_extraction_workers_cannot_start_fails_and_the_next_pass_fetches_its_pages(
        prefect_api, site, tmp_path):
    """Pass 1 is healthy. Pass 2 runs with a folder on sys.path that kills every spawned worker
    at import: it fails in one line, exit 2, and stores nothing. Pass 3 is healthy again and
    finds what pass 2 could not store, though the feeds would answer 304 to pass 2's requests."""
    story, db = _story(tmp_path, site), tmp_path / "broken.duckdb"
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "http.py").write_text(SHADOW, "utf-8")
    argv = ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts"]
    # The parent imports everything first, as a Prefect-loaded flow had; then the shadow goes on its path.
    broken = ("import sys; import storywatch.cli, storywatch.flows.monitor; "
              f"sys.path.insert(0, {str(shadow)!r}); sys.argv = ['storywatch', *{argv!r}]; storywatch.cli.app()")

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=tmp_path, env=_env(prefect_api), text=True, capture_output=True, timeout=300)

    assert run(*STORYWATCH, *argv).returncode == 0
    before = _rows(db, "SELECT article_id, verdict, relevance FROM judgments ORDER BY 1")
    site.set_phase(2)
    failed = run(sys.executable, "-c", broken)
    assert failed.returncode == 2, failed.stdout + failed.stderr
    error = [line for line in failed.stdout.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "extraction workers could not start" in error[0], failed.stdout
    assert _rows(db, "SELECT status FROM runs ORDER BY started_at") == [("completed",), ("failed",)]
    assert _rows(db, "SELECT article_id, verdict, relevance FROM judgments ORDER BY 1") == before  # nothing stored

    again = run(*STORYWATCH, *argv)
    assert again.returncode == 0, again.stdout + again.stderr
    phase2 = next(p for p in site.pages if p.phase == 2)
    assert _rows(db, f"SELECT verdict FROM judgments WHERE url LIKE '%{phase2.slug}'") == [("new",)]
    assert _rows(db, "SELECT status, extracted >= 1 FROM runs ORDER BY started_at")[-1] == ("completed", True)


CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_the_ui_address_serve_prints_opens_a_working_prefect_ui(site, tmp_path):
    """No PREFECT_API_URL: serve starts its own server and prints the UI's address. Headless
    Chromium opens its deployments page; the page lists the story's deployment, which it can only
    have got from that server's API (a UI asking the wrong port shows none)."""
    story, db = _story(tmp_path, site), tmp_path / "ui.duckdb"
    proc = subprocess.Popen([*STORYWATCH, "serve", "--story", str(story), "--every", "1h", "--db", str(db),
                             "--allow-private-hosts"], cwd=tmp_path, env=_env(None), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        address, seen, end = None, [], time.monotonic() + 180
        while address is None and time.monotonic() < end and proc.poll() is None:
            seen.append(proc.stdout.readline())
            address = re.match(r"Prefect UI: (http://127\.0\.0\.1:\d+)$", seen[-1].strip())
        assert address, "".join(seen)
        dom = ""
        for _ in range(10):  # the deployment is registered just after the address is printed
            dom = subprocess.run([*CHROMIUM, f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=15000",
                                  "--dump-dom", f"{address[1]}/deployments"],
                                 capture_output=True, text=True, timeout=120).stdout
            if "meta-open-models" in dom:
                break
            time.sleep(3)
    finally:
        _stop(proc)
    assert "meta-open-models" in dom, dom[-2000:]
    assert "4200" not in dom
