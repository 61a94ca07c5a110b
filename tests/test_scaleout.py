"""Scale-out: the same pass on Prefect's thread pool and on a Dask cluster of worker processes
(prefect-dask) gives the same warehouse, view for view; the warehouse stays single-writer."""

from __future__ import annotations

import re

import pytest
from pytest_httpserver import HTTPServer

from storywatch.flows.monitor import monitor_story
from storywatch.flows.runners import task_runner
from storywatch.demo.sample_site import DemoSite
from storywatch.errors import ConfigError
from storywatch.extractors.story import load_story
from tests.conftest import SEED_STORY, comparable_views, make_story, site_response


@pytest.fixture(scope="module")
def site():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    demo = DemoSite(load_story(SEED_STORY).seeds, f"http://127.0.0.1:{server.port}")

    server.expect_request(re.compile(".*")).respond_with_handler(lambda request: site_response(demo, request))
    yield demo
    server.stop()


def test_dask_runner_makes_the_same_warehouse_as_threads(prefect_harness, site, tmp_path):
    from prefect_dask import DaskTaskRunner

    runner = task_runner("dask")
    assert isinstance(runner, DaskTaskRunner)
    views = []
    for name, flow in (("threads", monitor_story), ("dask", monitor_story.with_options(task_runner=runner))):
        story = make_story(tmp_path / name, site.feed_urls())
        db = tmp_path / f"{name}.duckdb"
        result = flow(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
        assert result["verdicts"]["new"] > 0
        views.append(comparable_views(db))
    assert views[0] == views[1]


def test_task_runner_choices_are_checked():
    assert task_runner("threads") is None
    assert task_runner("dask://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"  # not connected until a run
    with pytest.raises(ConfigError, match="--task-runner 'ray'"):
        task_runner("ray")
