"""`storywatch serve`: one Prefect deployment of `monitor_story` per story, on an interval or a
cron schedule, and the local Prefect server that runs their schedules."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from prefect.types.entrypoint import EntrypointType

from storywatch.config import Story
from storywatch.errors import ConfigError
from storywatch.flows.monitor import monitor_story, passes_in
from storywatch.flows.runners import task_runner

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
DEFAULT_EVERY = "30m"


def parse_interval(text: str) -> timedelta:
    """'30m' -> 30 minutes; accepts s, m, h, d. At least 10 seconds."""
    match = _INTERVAL.match(text or "")
    if not match:
        raise ConfigError(f"--every {text!r}: expected a number and a unit, such as 30m, 2h or 90s")
    interval = timedelta(**{_UNITS[match[2]]: float(match[1])})
    if interval < timedelta(seconds=10):
        raise ConfigError(f"--every {text!r}: at least 10s")
    return interval


def check_schedule(stories: list[Story], every: str | None, cron: str | None) -> dict:
    """The schedule `serve` asks for, checked before anything starts (a one-line ConfigError):
    an interval of at least 10 s or a valid cron expression, not both, and stories whose names
    differ."""
    if every and cron:
        raise ConfigError("give --every or --cron, not both")
    slugs = [s.slug for s in stories]
    if len(set(slugs)) != len(slugs):
        raise ConfigError(f"two story folders share a name: {slugs}")
    if cron:
        from prefect.client.schemas.schedules import CronSchedule
        from pydantic import ValidationError

        try:
            CronSchedule(cron=cron)
        except ValidationError:
            raise ConfigError(f"--cron {cron!r}: not a cron expression (five fields, e.g. '*/30 * * * *')") from None
        return {"cron": cron}
    return {"interval": parse_interval(every or DEFAULT_EVERY)}


def deployments_for(stories: list[Story], db: Path, every: str | None, cron: str | None,
                    allow_private_hosts: bool, wait: float = 300.0, feeds: Path | None = None,
                    runner: str = "threads") -> list:
    """Runner deployments (Prefect `RunnerDeployment`) for `prefect.serve`, one per story, each
    limited to one run at a time; passes on the same file wait for each other. Each run loads
    the flow by its module path (storywatch.flows.monitor.monitor_story), never by file, so no
    folder of ours is put on `sys.path` of the run or of its extraction workers."""
    if feeds and len(stories) > 1:
        raise ConfigError("--feeds names one story's feeds: give it with one --story")
    schedule = check_schedule(stories, every, cron)
    task_runner(runner)  # a bad --task-runner is refused before a server starts
    return [
        monitor_story.to_deployment(
            name=story.slug,
            description=story.config.title,
            parameters={"story_dir": str(story.folder.resolve()), "db_path": str(db.resolve()),
                        "allow_private_hosts": allow_private_hosts, "wait_seconds": wait,
                        "feeds_file": str(feeds.resolve()) if feeds else None, "task_runner": runner},
            concurrency_limit=1,
            entrypoint_type=EntrypointType.MODULE_PATH,
            **schedule,
        )
        for story in stories
    ]


@contextmanager
def local_prefect_server(home: Path, timeout: float = 120.0) -> Iterator[str]:
    """A `prefect server start` on a free 127.0.0.1 port, for `serve` when no PREFECT_API_URL is
    set: Prefect's temporary in-process server does not run its scheduler, so schedules would
    never fire. Yields the API URL; stops the server on exit."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home.mkdir(parents=True, exist_ok=True)
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_API_URL": api}  # else the UI's pages ask port 4200, where nothing answers
    log = (home / "server.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise ConfigError(f"prefect server exited with code {server.returncode}; see {home / 'server.log'}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ConfigError(f"prefect server did not start within {timeout:.0f}s; see {home / 'server.log'}")
            time.sleep(0.5)
        yield api
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def clear_leftovers(deployments: list) -> tuple[int, int]:
    """What an earlier `serve` of these deployments left on the Prefect server: its old schedule's
    runs that never started (deleted: Prefect replaces only future runs when a schedule changes,
    and would run the late ones first, one after another), and runs it left Running or Pending
    when it was stopped or killed (marked Crashed: each holds the deployment's one concurrency
    slot until its lease runs out, and no pass would start meanwhile). Returns (dropped, crashed)."""
    from prefect import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    names = [d.name for d in deployments]
    with get_client(sync_client=True) as client:
        unstarted = [run for run in passes_in(client, [StateType.SCHEDULED], names) if not run.run_count]
        for run in unstarted:
            client.delete_flow_run(run.id)
        stale = passes_in(client, [StateType.RUNNING, StateType.PENDING, StateType.CANCELLING], names)
        for run in stale:
            client.set_flow_run_state(run.id, Crashed(message="left unfinished by a storywatch serve that stopped"),
                                      force=True)
    return len(unstarted), len(stale)
