"""Re-judging stored articles after the seeds, counter-examples, labels or settings changed.
Pure: the caller reads the stored articles (first judged first) and writes the changes and the
alerts they raise in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from storywatch.alerts import Alert, coverage_alert
from storywatch.judge import Judge
from storywatch.models import Judgment, Stored, Verdict

_COVERAGE = (Verdict.NEW, Verdict.SYNDICATED)


@dataclass(frozen=True)
class Change:
    """A stored article whose judgment is no longer what a judge gives it now."""

    stored: Stored
    judgment: Judgment

    @property
    def became_new(self) -> bool:
        """Newly new coverage (it was off the story, or a copy): it alerts, once."""
        return self.judgment.verdict is Verdict.NEW and self.stored.judgment.verdict is not Verdict.NEW


def rejudge(judge: Judge, stored: list[Stored]) -> list[Change]:
    """Judge every stored article again, in the order given (first judged first, so the original
    and not its copy is `new`), and return those whose verdict, score, copy or reason changed.
    Judging the same articles with the same judge twice gives no changes the second time."""
    changes = []
    for article in stored:
        judgment, text_hash, sig = judge.judge(article.article_id, article.text, article.published_at)
        if judgment.verdict in _COVERAGE:
            judge.remember(article.article_id, text_hash, sig)
        if _key(judgment) != _key(article.judgment):
            changes.append(Change(article, judgment))
    return changes


def alerts_for(changes: list[Change], min_relevance: float, labelled: set[str]) -> list[Alert]:
    """`new_coverage` alerts for articles that became new coverage, at or above `min_relevance`
    unless a person labelled them on-story."""
    return [coverage_alert(c.stored.article_id, c.stored.outlet or "unknown outlet", c.stored.title or c.stored.url,
                           c.stored.url, _why(c, labelled))
            for c in changes
            if c.became_new and (c.judgment.relevance >= min_relevance or c.stored.article_id in labelled)]


def _why(change: Change, labelled: set[str]) -> str:
    if change.stored.article_id in labelled:
        return "labelled on-story by a person"
    return f"re-judged on-story after the story changed (relevance {change.judgment.relevance:.2f})"


def _key(judgment: Judgment) -> tuple:
    return (judgment.verdict, round(judgment.relevance, 4), judgment.duplicate_of, judgment.reason)
