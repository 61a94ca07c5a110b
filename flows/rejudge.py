"""Label, re-score and explain: a person corrects a verdict, the story's stored articles are
judged again offline from their stored text, and one verdict is explained. No Prefect run and
no network: the warehouse at the edge, the judgment in storywatch.judge and storywatch.rescore."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from storywatch.alerts import resolve_channels
from storywatch.config import Story
from storywatch.errors import UnknownArticleError, WarehouseError
from storywatch.explain import explain
from storywatch.extractors.story import load_story
from storywatch.judge import Judge
from storywatch.models import ON_STORY_VERDICTS, Judgment, Label, Stored, Verdict
from storywatch.rescore import Change, alerts_for, rejudge
from storywatch.warehouse.rejudged import find_article, labels, save_label, save_rescore, stored_articles
from storywatch.warehouse.store import Warehouse


def label_article(story_dir: Path, db: Path, url: str, on_story: bool, wait: float = 30.0) -> Change | None:
    """Record a person's verdict on the stored article `url` names and apply it to that article
    at once (its alert, if it becomes new coverage, is queued); returns the change, if any."""
    story = load_story(story_dir)
    with _open(db, wait) as wh:
        article = _stored(wh, story, url, db)
        now = datetime.now(timezone.utc)
        label = Label(article.article_id, on_story, article.text, now)
        old = article.judgment
        if on_story:
            kept = old.verdict in ON_STORY_VERDICTS
            judgment = Judgment(old.verdict if kept else Verdict.NEW, old.relevance,
                                f"labelled on-story by a person on {now:%Y-%m-%d}",
                                old.duplicate_of if kept else None, old.duplicate_score if kept else None)
        else:
            judgment = Judgment(Verdict.OFF_TOPIC, old.relevance, f"labelled off-story by a person on {now:%Y-%m-%d}")
        changes = [Change(article, judgment)] if judgment != old else []
        save_label(wh, story.slug, label, changes, _outbox(story, changes, {article.article_id} if on_story else set()))
    return changes[0] if changes else None


def rescore_story(story_dir: Path, db: Path, wait: float = 30.0) -> tuple[list[Change], int]:
    """Judge every stored article of the story again with today's seeds, counter-examples,
    labels and settings; store what changed (with the previous verdicts) and queue the alerts of
    articles that became new coverage. Returns the changes and the number of articles judged."""
    story = load_story(story_dir)
    with _open(db, wait) as wh:
        found = labels(wh, story.slug)
        stored = stored_articles(wh, story.slug)
        changes = rejudge(Judge.for_loaded(story, found), stored)
        on = {lab.article_id for lab in found if lab.on_story}
        save_rescore(wh, story.slug, changes, datetime.now(timezone.utc), _outbox(story, changes, on))
    return changes, len(stored)


def explain_article(story_dir: Path, db: Path, url: str) -> list[str]:
    """Why the stored article `url` names is in or out of the story, judged as a pass would now."""
    story = load_story(story_dir)
    _exists(db)
    with Warehouse.open(db, read_only=True) as wh:
        article = _stored(wh, story, url, db)
        judge = Judge.for_loaded(story, labels(wh, story.slug))
    return explain(judge, article, story.config.thresholds.relevance is not None)


def _outbox(story: Story, changes: list[Change], labelled_on: set[str]) -> list:
    alerts = alerts_for(changes, story.config.alerts.min_relevance, labelled_on)
    return [(alert, channel.label) for alert in alerts for channel in resolve_channels(story.config.alerts, os.environ)]


def _open(db: Path, wait: float) -> Warehouse:
    _exists(db)
    return Warehouse.open(db, wait_seconds=wait)


def _exists(db: Path) -> None:
    if not Path(db).exists():
        raise WarehouseError(f"{db}: no such database (run a pass first)")


def _stored(wh: Warehouse, story: Story, url: str, db: Path) -> Stored:
    article_id = find_article(wh, story.slug, url)
    if article_id is None:
        raise UnknownArticleError(f"{url}: not an article of story {story.slug!r} in {db} (only stored articles can be "
                                  f"labelled or explained)")
    found = stored_articles(wh, story.slug, only=article_id)
    if not found:
        raise UnknownArticleError(f"{url}: stored without text (its fetch failed or the page had none), nothing to judge")
    return found[0]
