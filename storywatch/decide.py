"""How a pass's fetched pages become decisions: judged in publication order, one verdict per
article, a new version for a changed text. Pure; `storywatch.flows.monitor` stores the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from storywatch.judge import Judge
from storywatch.models import Decision, Judgment, Known, PageOutcome, RunCounts, Verdict
from storywatch.passplan import page_article_id


def decide(
    pages: list[PageOutcome],
    judge: Judge,
    known_articles: Mapping[str, Known],
    counts: RunCounts,
) -> tuple[list[Decision], dict[str, str]]:
    """Judge fetched pages in publication order (so the original, not a later copy, is `new`).

    Each article is decided once a pass: first sight (or a retried failed fetch) gets a counted
    verdict; a known article whose text changed gets a new version and is re-judged; an
    unchanged re-fetch writes nothing. Returns the decisions and a map from entry-link IDs to
    the article ID the page's canonical URL gave, for links that turned out to be variants."""
    decisions: list[Decision] = []
    redirected: dict[str, str] = {}
    done: set[str] = set()

    def when(page: PageOutcome) -> float:
        published = (page.article.published_at if page.article else None) or page.entry.published_at
        return (published or page.fetched_at).timestamp()

    for page in sorted(pages, key=lambda p: (when(p), p.article_id)):
        counts.pages_fetched += 0 if page.blocked else 1
        aid = page_article_id(page)
        if aid != page.article_id:
            redirected[page.article_id] = aid
        known = known_articles.get(aid)
        if aid in done or (page.article is None and known is not None and known.version > 0):
            continue  # already decided this pass, or a failed re-check of a stored article
        done.add(aid)
        if page.article is None:
            verdict = Verdict.BLOCKED if page.blocked else Verdict.FETCH_FAILED
            judgment = Judgment(verdict, 0.0, page.error or verdict.value)
            counts.verdicts[verdict.value] += 1
            decisions.append(Decision(aid, page, judgment, "", b"", 0, None, page.fetched_at))
            continue
        counts.extracted += 1 if page.article.text_source == "page" else 0
        judgment, text_hash, sig = judge.judge(aid, page.article.text, page.article.published_at)
        if judgment.verdict is Verdict.NO_TEXT and page.error:  # say why the page gave none
            judgment = replace(judgment, reason=f"{page.error}; no text in the feed entry either")
        if known is not None and known.content_hash == text_hash:
            continue
        if known is not None and known.version > 0:
            counts.updates += 1
        else:
            counts.verdicts[judgment.verdict.value] += 1
        if judgment.verdict in (Verdict.NEW, Verdict.SYNDICATED):
            judge.remember(aid, text_hash, sig)
        version = (known.version if known else 0) + 1
        decisions.append(Decision(aid, page, judgment, text_hash, sig.to_bytes(), sig.size, version, page.fetched_at))
    return decisions, redirected
