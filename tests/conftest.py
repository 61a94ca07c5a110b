"""Shared fixtures: one Prefect test server for the session, real story folders in tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED_STORY = ROOT / "seeds" / "meta-open-models"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API for the whole session (it takes ~15 s to start)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


def make_story(folder: Path, feed_urls: list[str], extra_toml: str = "") -> Path:
    """A story folder with the five real seeds, a feeds.txt and a story.toml."""
    story = folder / "meta-open-models"
    story.mkdir(parents=True, exist_ok=True)
    for seed in SEED_STORY.glob("*.txt"):
        shutil.copy(seed, story / seed.name)
    (story / "feeds.txt").write_text("\n".join(feed_urls) + "\n", encoding="utf-8")
    (story / "story.toml").write_text(
        'title = "Meta open-sources its new models"\nfeeds = "feeds.txt"\n'
        "[thresholds]\nrelevance = 0.4\n"
        "[fetch]\nretries = 0\ntimeout_seconds = 5\n" + extra_toml,
        encoding="utf-8",
    )
    return story


@pytest.fixture()
def seed_texts() -> dict[str, str]:
    from storywatch.story import load_story

    return load_story(SEED_STORY).seeds


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """pytest-httpserver on 127.0.0.1 (not "localhost"), so URLs name the address itself."""
    return ("127.0.0.1", 0)
