"""The markdown a run leaves behind (a Prefect artifact): its counts and what it found."""

from __future__ import annotations

from storywatch.models import Decision, RunCounts, Verdict


def _cell(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def run_markdown(story_title: str, counts: RunCounts, decisions: list[Decision],
                 developments: list[tuple[str, str]] = ()) -> str:
    """Markdown for one pass: counts, the new on-story coverage (not copies), and the pass's
    developments as (outlet, sentence) pairs."""
    v = counts.verdicts
    lines = [
        f"# {_cell(story_title)}",
        "",
        f"Feeds {counts.feeds} (not modified {counts.feeds_not_modified}, failed {counts.feeds_failed}, "
        f"backing off {counts.feeds_deferred}) · entries new {counts.entries_new} · pages fetched {counts.pages_fetched}",
        f"On-story: **{v['new']} new**, {v['syndicated']} syndicated, {v['seed_copy']} seed copies · "
        f"updates {counts.updates} · off-topic {v['off_topic']} · alerts sent {counts.alerts_sent}",
    ]
    fresh = [d for d in decisions if d.judgment.verdict is Verdict.NEW and d.version == 1 and d.page.article]
    if fresh:
        lines += ["", "## New coverage", "", "| outlet | title | relevance |", "|---|---|---|"]
        for d in fresh:
            a = d.page.article
            lines.append(f"| {_cell(a.outlet)} | [{_cell(a.title) or a.canonical_url}]({a.canonical_url}) | {d.judgment.relevance:.2f} |")
    if developments:
        lines += ["", "## Developments", ""]
        lines += [f"- **{_cell(outlet)}**: {_cell(sentence)}" for outlet, sentence in developments]
    return "\n".join(lines) + "\n"
