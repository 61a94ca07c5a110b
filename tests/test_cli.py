"""The `storywatch` command: demo end to end, and one-line errors with a non-zero exit."""

import subprocess
import sys
import time

import duckdb
import pytest
from typer.testing import CliRunner

from storywatch.cli import app
from tests.conftest import SEED_STORY, make_story

runner = CliRunner()


def test_every_command_has_help():
    for command in ([], ["run"], ["demo"], ["label"], ["rescore"], ["explain"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_demo_prints_summary_and_coverage(prefect_harness, tmp_path):
    db = tmp_path / "demo.duckdb"
    result = runner.invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "pass 1" in result.output and "pass 2" in result.output and "coverage" in result.output
    # The packaged not/ keeps the Scale AI business story out, and the demo explains that near miss.
    assert "Why was the closest article left out?" in result.output and "closest counter-example: not/" in result.output
    con = duckdb.connect(str(db), read_only=True)
    verdicts = dict(con.execute("SELECT verdict, count(*) FROM judgments GROUP BY verdict").fetchall())
    assert con.execute("SELECT verdict FROM judgments WHERE title LIKE 'Scale AI bets%'").fetchall() == [("off_topic",)]
    assert verdicts["seed_copy"] == 2 and verdicts["new"] >= 5 and verdicts["off_topic"] >= 5
    assert con.execute("SELECT max(versions) FROM judgments").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM runs WHERE status = 'completed'").fetchone()[0] == 2


def test_demo_refuses_to_overwrite_other_files(tmp_path):
    db = tmp_path / "precious.duckdb"
    db.write_bytes(b"data")
    result = runner.invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 2 and "exists" in result.output and db.read_bytes() == b"data"


def test_run_bad_story_folder_is_one_line(tmp_path):
    result = runner.invoke(app, ["run", "--story", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'nope'}: story folder not found"]


def test_run_unreadable_feeds_file(tmp_path):
    story = make_story(tmp_path, ["https://example.com/feed"])
    result = runner.invoke(app, ["run", "--story", str(story), "--feeds", str(tmp_path / "none.txt")])
    assert result.exit_code == 2 and "none.txt: cannot read feeds file" in result.output


def _hold(db, seconds: float) -> subprocess.Popen:
    """Another process holding the DuckDB file for `seconds`."""
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(db)!r}); "
                               f"print('ok', flush=True); time.sleep({seconds}); c.close()"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ok"
    return holder


def test_run_locked_db_waits_then_is_one_line(prefect_harness, tmp_path):
    story = make_story(tmp_path, ["http://127.0.0.1:9/feed.xml"])
    db = tmp_path / "locked.duckdb"
    duckdb.connect(str(db)).close()
    holder = _hold(db, 60)
    try:
        result = runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts", "--wait", "1"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [  # says once that it waits, and on what; then why it stopped
        f"waiting up to 1s for {db}: in use by another storywatch process",
        f"error: {db}: in use by another storywatch process (DuckDB allows one writer); waited 1s"]


def test_run_waits_for_the_other_writer_to_finish(prefect_harness, tmp_path):
    story = make_story(tmp_path, ["http://127.0.0.1:9/feed.xml"])
    db = tmp_path / "busy.duckdb"
    duckdb.connect(str(db)).close()
    holder = _hold(db, 2)
    result = runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts", "--wait", "60"])
    holder.wait()
    assert result.exit_code == 0, result.output


def test_run_completes_when_feeds_fail(prefect_harness, tmp_path):
    story = make_story(tmp_path, ["http://127.0.0.1:9/refused-port.xml"])
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 feeds gave nothing this pass (1 failed, 0 backing off): silence from them may be a failure" \
        in " ".join(result.output.split())
    con = duckdb.connect(str(db), read_only=True)
    status, error, failures = con.execute("SELECT last_status, last_error, consecutive_failures FROM feeds").fetchone()
    assert status is None and "ConnectError" in error and failures == 1


@pytest.mark.parametrize("options, message", [
    (["--every", "5s"], "--every '5s': at least 10s"),
    (["--every", "10m", "--cron", "*/5 * * * *"], "give --every or --cron, not both"),
    (["--cron", "every day"], "--cron 'every day': not a cron expression (five fields, e.g. '*/30 * * * *')"),
    (["--story", "second-story", "--feeds", "feeds.txt"], "--feeds names one story's feeds: give it with one --story"),
])
def test_serve_checks_its_schedule_before_starting_anything(tmp_path, options, message):
    story = make_story(tmp_path, ["https://example.com/feed"])
    other = make_story(tmp_path / "other", ["https://example.com/feed"])
    options = [str(other) if o == "second-story" else str(story / o) if o == "feeds.txt" else o for o in options]
    db = tmp_path / "data" / "s.duckdb"
    started = time.monotonic()
    result = runner.invoke(app, ["serve", "--story", str(story), "--db", str(db), *options])
    assert result.exit_code == 2 and result.output.strip() == f"error: {message}"
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()  # no Prefect server was started: nothing written
    assert time.monotonic() - started < 10


@pytest.fixture()
def immutable():
    """`chattr +i`: a file or folder that not even root may change (this machine runs as root,
    so permission bits alone would not stop a write); undone after the test."""
    made = []

    def make(path):
        subprocess.run(["chattr", "+i", str(path)], check=True)
        made.append(path)

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_or_folder_is_one_line_and_loses_nothing(prefect_harness, tmp_path, immutable):
    story = make_story(tmp_path, ["http://127.0.0.1:9/refused-port.xml"])
    db = tmp_path / "w.duckdb"
    assert runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts"]).exit_code == 0
    before = db.read_bytes()
    immutable(db)
    result = runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: {db}: cannot write the file (Operation not permitted); nothing was changed"]
    assert db.read_bytes() == before
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)  # still readable, as it was
    con.close()

    folder = tmp_path / "locked-folder"
    folder.mkdir()
    immutable(folder)
    result = runner.invoke(app, ["run", "--story", str(story), "--db", str(folder / "new.duckdb"), "--allow-private-hosts"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: {folder / 'new.duckdb'}: cannot write its folder (Operation not permitted); nothing was changed"]
    assert list(folder.iterdir()) == []


def test_a_database_that_vanished_between_passes_is_one_line_not_a_fresh_start(prefect_harness, tmp_path):
    """A pass wrote the file, then it is gone: an empty file made in its place would take every
    article for new coverage and alert again. The next pass refuses, in one line, and makes no
    file; --new-db starts afresh."""
    story = make_story(tmp_path, ["http://127.0.0.1:9/refused-port.xml"])
    db = tmp_path / "gone.duckdb"
    assert runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts"]).exit_code == 0
    db.unlink()
    result = runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {db}: the database is gone: 1 earlier pass(es) wrote it, the last at ")
    assert lines[0].endswith("UTC; restore it, or run with --new-db to start afresh")
    assert not db.exists()
    from storywatch.errors import WarehouseError
    from storywatch.flows.monitor import monitor_story

    with pytest.raises(WarehouseError, match="the database is gone"):  # a served or deployed pass refuses too
        monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert not db.exists()
    again = runner.invoke(app, ["run", "--story", str(story), "--db", str(db), "--allow-private-hosts", "--new-db"])
    assert again.exit_code == 0 and db.exists()  # a new file, asked for
