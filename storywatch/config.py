"""A story's settings (`story.toml`: title, thresholds, feeds file, fetch limits, alerts,
re-checks) as strict models that reject unknown keys, and the loaded `Story` itself. Pure:
`storywatch.extractors.story` reads the folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storywatch.models import FeedSource
from storywatch.recheck import parse_tiers
from storywatch.timeline import BEFORE_STORY_DAYS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    relevance: float | None = Field(None, ge=0.0, le=1.0,
                                    description="minimum relevance for on-story; unset: derived from the seeds")
    before_story_days: int = Field(BEFORE_STORY_DAYS, ge=0, le=3650,
                                   description="an article published more than this long before the story started is off-topic")


class FetchSettings(_Strict):
    timeout_seconds: float = Field(20.0, gt=0, le=300)
    max_bytes: int = Field(5_000_000, gt=1000)
    max_redirects: int = Field(5, ge=0, le=20)
    retries: int = Field(2, ge=0, le=5, description="retries of transient feed errors")
    retry_delay_seconds: float = Field(2.0, ge=0, le=600)
    concurrency: int = Field(4, ge=1, le=32, description="pages fetched at once per feed")
    per_host: int = Field(2, ge=1, le=32, description="requests in flight to one host at once, whatever the feed")
    min_interval_seconds: float = Field(0.5, ge=0, le=60, description="seconds between the starts of two requests to one host")
    robots: bool = Field(True, description="fetch article pages only where the site's robots.txt allows")
    max_pages_per_feed: int = Field(100, ge=1, description="new pages fetched from one feed per pass")
    user_agent: str = "storywatch/0.1 (+https://github.com/storywatch/storywatch; news monitoring)"
    allow_hosts: tuple[str, ...] = Field((), description="hosts fetched even if they resolve to private addresses")


class AlertRules(_Strict):
    new_coverage: bool = True  # a new on-story article (not a copy of a seed or of coverage)
    new_outlet: bool = True  # an outlet covering the story for the first time
    volume_spike: bool = True  # a day's coverage well above the story's recent days
    new_development: bool = True  # an article or edit that says something not said before
    spike_factor: float = Field(3.0, gt=1.0, description="times the mean of the previous days")
    spike_min: int = Field(3, ge=1, description="a spike needs at least this many articles")
    spike_window_days: int = Field(7, ge=1, le=90)


class Channel(_Strict):
    """One place alerts go: an Apprise URL given inline or (for secrets) in an environment variable."""

    name: str = ""
    url: str = ""
    url_env: str = ""
    max_per_hour: int = Field(20, ge=1, description="messages an hour; the rest are folded into a digest")
    quiet_hours: str = Field("", pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
                             description="HH:MM-HH:MM in `timezone`: nothing is sent, it waits")
    timezone: str = Field("UTC", description="IANA time zone of `quiet_hours`, e.g. Europe/Berlin")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as Europe
            raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as Europe/Berlin)") from None
        return name

    @model_validator(mode="after")
    def _one_source(self) -> Channel:
        if bool(self.url) == bool(self.url_env):
            raise ValueError("give exactly one of url or url_env")
        return self


class AlertSettings(_Strict):
    enabled: bool = True
    min_relevance: float = Field(0.0, ge=0.0, le=1.0, description="alerts only at or above this relevance")
    mode: Literal["digest", "each"] = "digest"
    stdout: bool = True  # also print alerts in the run's log
    max_attempts: int = Field(5, ge=1, le=50, description="delivery attempts before an alert is marked failed")
    channels_env: str = "STORYWATCH_ALERT_URLS"  # more Apprise URLs, space or comma separated
    rules: AlertRules = AlertRules()
    channels: tuple[Channel, ...] = ()


class RecheckSettings(_Strict):
    """When on-story articles are fetched again to catch edits, by age since first seen."""

    tiers: tuple[str, ...] = ("15m", "1h", "3h", "1d", "3d")

    @field_validator("tiers")
    @classmethod
    def _valid(cls, tiers: tuple[str, ...]) -> tuple[str, ...]:
        parse_tiers(tiers)  # raises ValueError with the bad value
        return tiers


class DevelopmentSettings(_Strict):
    key_per_article: int = Field(3, ge=0, le=100, description="key developments an article may add at most")
    key_per_day: int = Field(10, ge=0, le=1000, description="key developments a day may take at most")


class StoryConfig(_Strict):
    title: str
    started: date | None = None  # unset: the earliest date the seeds carry (storywatch.timeline)
    feeds: str = "feeds.opml"
    atom: str | None = None  # where each pass writes the coverage feed; unset: <story>.atom beside the database
    thresholds: Thresholds = Thresholds()
    developments: DevelopmentSettings = DevelopmentSettings()
    fetch: FetchSettings = FetchSettings()
    alerts: AlertSettings = AlertSettings()
    recheck: RecheckSettings = RecheckSettings()


@dataclass(frozen=True)
class Story:
    slug: str
    folder: Path
    config: StoryConfig
    seeds: dict[str, str]  # seed file name -> article text
    feeds: list[FeedSource]
    counter_examples: dict[str, str] = field(default_factory=dict)  # not/ file name -> text
    started: date | None = None  # story.toml's `started`, else the earliest seed date


