"""Why one article is in or out of the story, in a few lines (`storywatch explain`). Pure: it
reads the judge a pass would use and the article's stored text."""

from __future__ import annotations

from storywatch.judge import COUNTER_MARGIN, Judge, counter_name
from storywatch.models import Stored
from storywatch.relevance import DERIVED_SHARE


def explain(judge: Judge, article: Stored, configured: bool) -> list[str]:
    """Lines saying how `judge` decides `article` now, next to its stored verdict. `configured`
    says the threshold was set in story.toml rather than derived from the seeds."""
    now, _, _ = judge.judge(article.article_id, article.text, article.published_at)
    stored = article.judgment
    profile = judge.profile
    parts = profile.components(article.text)
    if configured:
        rule = f"threshold {judge.threshold:.2f}, set in story.toml"
    else:
        rule = (f"threshold {judge.threshold:.2f} = {DERIVED_SHARE} x {min(profile.held_out):.2f}, the score of the "
                f"least typical seed against the others")
    side = ">=" if now.relevance >= judge.threshold else "<"
    matched, missed = profile.term_hits(article.text)
    (seed, to_seed), (counter, to_counter) = judge.nearest(article.text, article.article_id)
    lines = [
        f"{article.title or article.url} ({article.outlet or 'unknown outlet'})",
        f"  {article.url}",
        f"verdict: {now.verdict.value} (stored: {stored.verdict.value}, relevance {stored.relevance:.2f})",
        f"why: {now.reason}",
        f"score: relevance {now.relevance:.2f} {side} {rule}",
        f"parts: who {parts['who']:.2f} · what {parts['what']:.2f} · link {parts['link']:.2f} "
        f"(1.00 = as much of the story as a typical seed)",
        f"story terms matched: {', '.join(matched) or 'none'}",
        f"story terms missed: {', '.join(missed) or 'none'}",
        f"closest seed or on-label: {seed} (cosine {to_seed:.2f})",
    ]
    if counter:
        pulled = to_counter > COUNTER_MARGIN * to_seed
        lines.append(f"closest counter-example: {counter_name(counter)} (cosine {to_counter:.2f})"
                     + (" - pulled it down" if pulled else " - not close enough to pull it down"))
    return lines
