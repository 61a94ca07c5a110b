"""Alert rules and delivery planning, pure: which alerts a pass raises, and which queued alerts
go out now, to which channel, as single messages or folded into a digest.

Every alert has a stable key (`new:<article_id>`, `outlet:<outlet>`, `spike:<day>`), so a pass
that runs again raises the same keys and the outbox (unique on story, key, channel) never
holds an alert twice. Delivery is planned per channel: nothing during quiet hours (alerts wait),
at most `max_per_hour` messages an hour (the rest are folded into one digest), and in `digest`
mode everything due goes out as one message per run."""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from storywatch.errors import ConfigError
from storywatch.evolution import Development
from storywatch.models import Decision, Verdict

# Retry delays after failed deliveries: 1, 2, 4 … minutes, at most six hours.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)


@dataclass(frozen=True)
class Alert:
    key: str
    rule: str  # new_coverage | new_outlet | new_development | volume_spike | test
    title: str
    body: str
    url: str = ""


def _alert(key: str, rule: str, title: str, body: str, url: str = "") -> Alert:
    """An alert whose body ends by naming the rule that raised it."""
    return Alert(key, rule, title, f"{body}\nRule: {rule}", url)


def coverage_alert(article_id: str, outlet: str, title: str, url: str, why: str) -> Alert:
    """The `new_coverage` alert for one article; its key is the same however the article came to
    be new coverage (a pass, a label, a re-score), so it is raised once."""
    return _alert(f"new:{article_id}", "new_coverage", f"New coverage: {title}", f"{outlet} — {title}\n{url}\nWhy: {why}.", url)


def _link(decision: Decision) -> str:
    """The article's canonical URL, or the feed entry's link if nothing was extracted."""
    art = decision.page.article
    return art.canonical_url if art else decision.page.entry.link


@dataclass(frozen=True)
class ChannelSpec:
    """A resolved channel: the Apprise URL (secret) and a label safe to store and log."""

    url: str
    label: str
    max_per_hour: int = 20
    quiet_hours: str = ""
    timezone: str = "UTC"


def channel_label(url: str, name: str = "") -> str:
    """A name for a channel that reveals no token: scheme, optional name, and a short hash."""
    scheme = urlsplit(url).scheme or "channel"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return f"{name or scheme}#{digest}" if url != "stdout://" else "stdout"


@dataclass(frozen=True)
class StoryContext:
    """What the warehouse knew before this pass: outlets already covering the story, and the
    daily count of new + syndicated coverage for recent days."""

    known_outlets: frozenset[str]
    daily_counts: dict[date, int] = field(default_factory=dict)


def raise_alerts(
    story_title: str,
    decisions: list[Decision],
    context: StoryContext,
    min_relevance: float,
    rules,  # storywatch.config.AlertRules
    today: date,
    developments: list[Development] = (),
) -> list[Alert]:
    """The alerts one pass's decisions raise. Copies of seeds or of earlier coverage never
    alert as new coverage; a re-judged (updated) article does not alert again, but what its
    edit adds (a development) does."""
    alerts: list[Alert] = []
    outlets_seen = set(context.known_outlets)
    fresh = [d for d in decisions if d.version == 1 and d.judgment.relevance >= min_relevance]
    for d in fresh:
        verdict, art = d.judgment.verdict, d.page.article
        outlet = (art.outlet if art else "") or "unknown outlet"
        title = (art.title if art else d.page.entry.title) or d.page.entry.link
        url = _link(d)
        why = f"relevance {d.judgment.relevance:.2f}"
        if rules.new_coverage and verdict is Verdict.NEW:
            alerts.append(coverage_alert(d.article_id, outlet, title, url, f"new on-story article ({why})"))
        if rules.new_outlet and verdict is Verdict.NEW and outlet not in outlets_seen:  # never for a copy
            outlets_seen.add(outlet)
            alerts.append(_alert(f"outlet:{outlet}", "new_outlet", f"New outlet on the story: {outlet}",
                                 f"{outlet} covers “{story_title}” for the first time: {title}\n{url}\n"
                                 f"Why: first on-story article from this outlet ({verdict.value}, {why}).", url))
    if rules.new_development:
        by_id = {d.article_id: d for d in decisions}
        by_version: dict[tuple[str, int], list[Development]] = {}
        for dev in developments:  # key developments only (storywatch.claims)
            if dev.key and dev.article_id in by_id and by_id[dev.article_id].judgment.relevance >= min_relevance:
                by_version.setdefault((dev.article_id, dev.version), []).append(dev)
        for (aid, version), devs in by_version.items():
            facts = sorted({f.text for dev in devs for f in dev.facts if f.kind != "name"})
            lines = [f"• {dev.sentence}" for dev in devs[:3]] + ([f"(+{len(devs) - 3} more)"] if len(devs) > 3 else [])
            what = "an edit" if version > 1 else "a new article"
            url = _link(by_id[aid])
            alerts.append(_alert(f"dev:{aid}:{version}", "new_development",
                                 f"New in the story ({devs[0].outlet}): {devs[0].sentence[:90]}",
                                 "\n".join(lines) + (f"\nFacts: {', '.join(facts)}" if facts else "")
                                 + f"\n{url}\nWhy: {len(devs)} key development(s) in {what}: claims neither the seeds nor "
                                 f"earlier coverage made (relevance {by_id[aid].judgment.relevance:.2f}).", url))
    if rules.volume_spike:
        today_count = context.daily_counts.get(today, 0) + sum(
            1 for d in fresh if d.judgment.verdict in (Verdict.NEW, Verdict.SYNDICATED))
        earlier = [context.daily_counts.get(today - timedelta(days=i), 0) for i in range(1, rules.spike_window_days + 1)]
        baseline = statistics.fmean(earlier) if earlier else 0.0
        if today_count >= max(rules.spike_min, rules.spike_factor * baseline) and any(earlier):
            alerts.append(_alert(f"spike:{today.isoformat()}", "volume_spike", f"Coverage spike: {story_title}",
                                 f"{today_count} on-story articles today vs {baseline:.1f} a day over the previous "
                                 f"{rules.spike_window_days} days.\nWhy: at least {rules.spike_factor:g}x the recent baseline."))
    return alerts


@dataclass(frozen=True)
class Pending:
    """A queued alert for one channel, as the warehouse holds it."""

    key: str
    rule: str
    title: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Message:
    """One message to send, and the outbox keys it settles."""

    title: str
    body: str
    keys: tuple[str, ...]


def in_quiet_hours(spec: ChannelSpec, now: datetime) -> bool:
    if not spec.quiet_hours:
        return False
    start_s, end_s = spec.quiet_hours.split("-")
    local = now.astimezone(ZoneInfo(spec.timezone)).time()
    start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    return start <= local < end if start <= end else (local >= start or local < end)


def plan_messages(spec: ChannelSpec, pending: list[Pending], sent_last_hour: int, mode: str,
                  now: datetime) -> list[Message]:
    """Messages for one channel this run: none in quiet hours; within the hourly limit one per
    alert (mode `each`), folding whatever exceeds it into a final digest; one digest in mode
    `digest`."""
    if not pending or in_quiet_hours(spec, now):
        return []
    budget = spec.max_per_hour - sent_last_hour
    if budget <= 0:
        return []
    if mode == "digest":
        return [_digest(pending)]
    if len(pending) <= budget:
        return [Message(p.title, p.body, (p.key,)) for p in pending]
    singles = [Message(p.title, p.body, (p.key,)) for p in pending[: budget - 1]]
    return singles + [_digest(pending[budget - 1 :])]


def _digest(items: list[Pending]) -> Message:
    if len(items) == 1:
        return Message(items[0].title, items[0].body, (items[0].key,))
    body = "\n\n".join(f"• {p.title}\n{p.body}" for p in items)
    return Message(f"storywatch: {len(items)} alerts", body, tuple(p.key for p in items))


def next_attempt(attempts: int, now: datetime) -> datetime:
    """When to try again after `attempts` failed deliveries (exponential, capped)."""
    return now + min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


def redact(text: str, url: str) -> str:
    """`text` with every sizeable piece of the channel URL (tokens, hosts, paths) masked."""
    parts = urlsplit(url)
    pieces = [url, parts.netloc, parts.path, parts.query, parts.password or "", parts.username or ""]
    pieces += parts.path.split("/") + parts.netloc.split("@") + parts.query.split("&")
    for piece in sorted({p for p in pieces if len(p) >= 6}, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


STDOUT = ChannelSpec(url="stdout://", label="stdout", max_per_hour=1_000_000)


def resolve_channels(settings, environ: Mapping[str, str]) -> list[ChannelSpec]:  # settings: AlertSettings
    """The story's channels with their URLs read from the config or the environment."""
    if not settings.enabled:
        return []
    specs = [STDOUT] if settings.stdout else []
    for channel in settings.channels:
        url = channel.url or environ.get(channel.url_env, "").strip()
        if not url:
            raise ConfigError(f"alerts channel {channel.name or channel.url_env!r}: environment variable "
                              f"{channel.url_env} is not set")
        specs.append(ChannelSpec(url, channel_label(url, channel.name), channel.max_per_hour,
                                 channel.quiet_hours, channel.timezone))
    for url in environ.get(settings.channels_env, "").replace(",", " ").split():
        specs.append(ChannelSpec(url, channel_label(url, "env")))
    return specs
