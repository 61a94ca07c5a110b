"""News-search feeds built from a story: Google News RSS and Bing News RSS queries made of the
story's heaviest terms (its actors and its event, as the relevance profile weighs them), one
more for each name that key developments brought in, and which of the story's existing search
feeds they supersede. Pure: `storywatch feeds suggest` reads the story and the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote_plus, urlsplit

from storywatch.relevance import StoryProfile, terms

ENGINES = {
    "Google News": "https://news.google.com/rss/search?q={q}&hl=en-US&gl=US&ceid=US:en",
    "Bing News": "https://www.bing.com/news/search?q={q}&format=rss",
}
SEARCH_HOSTS = {"news.google.com": "Google News", "www.bing.com": "Bing News", "bing.com": "Bing News"}
NEW_NAMES = 3  # queries for names the coverage brought in
MIN_ARTICLES = 2  # a name one article mentions in passing is no query
LEADING_TERMS = 30  # a search feed's words should be among this many of the story's heaviest terms


@dataclass(frozen=True)
class Query:
    terms: tuple[str, ...]
    reason: str
    from_coverage: bool = False  # built on a name the coverage brought in, not on the seeds

    @property
    def text(self) -> str:
        return " ".join(f'"{t}"' if " " in t else t for t in self.terms)


@dataclass(frozen=True)
class Suggestion:
    engine: str
    url: str
    query: Query


@dataclass(frozen=True)
class Superseded:
    url: str
    query: str
    by: str
    reason: str


def leading_terms(profile: StoryProfile) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """The profile's (who, what) terms, heaviest first, as spelled, each with its weight; a term
    inside a heavier phrase ("wang" in "alexandr wang") is left out, the phrase says it."""
    ranked = sorted(profile.weights.items(), key=lambda kv: (-kv[1], kv[0]))
    kept: list[tuple[str, float, bool]] = []
    for term, weight in ranked:
        words = set(term.split(" "))
        if any(words <= set(k.split(" ")) for k, _, _ in kept):
            continue
        kept.append((term, weight, term in profile.who))
    spelled = [(profile.spelled(t), w, who) for t, w, who in kept]
    return [(t, w) for t, w, who in spelled if who], [(t, w) for t, w, who in spelled if not who]


def story_queries(profile: StoryProfile, new_names: list[tuple[str, str, str, int]] = ()) -> list[Query]:
    """The story's queries: its two leading actors with its leading event term; its leading actor
    with its two leading event terms (coverage that names one actor); then, with the leading
    actor, one for each of the first NEW_NAMES of `new_names` (name, first outlet, day, on-story
    articles naming it; most-named first) that MIN_ARTICLES articles name and the seeds do not
    already weigh."""
    who, what = leading_terms(profile)
    queries = []
    if who and what:
        actors, event = who[:2], what[:1]
        queries.append(Query(tuple(t for t, _ in actors + event),
                             f"the story's leading actors ({_weights(actors)}) and event term ({_weights(event)})"))
        if what[1:2]:
            queries.append(Query((who[0][0], *(t for t, _ in what[:2])),
                                 f"its leading actor ({_weights(who[:1])}) and two event terms ({_weights(what[:2])}): "
                                 "coverage that names one actor"))
    known = {t for t, _ in who + what}
    names = [n for n in new_names if n[3] >= MIN_ARTICLES and n[0].lower() not in known]
    names = [n for n in names if not any(n[0] != m[0] and n[0] in m[0].split() for m in names)]  # "Marchetti" in "Lena Marchetti"
    anchor = who[0][0] if who else (what[0][0] if what else "")
    for name, outlet, day, articles in names[:NEW_NAMES]:
        queries.append(Query(tuple(t for t in (name, anchor) if t),
                             f"a name the coverage brought in: first reported by {outlet or 'an outlet'} on {day}, "
                             f"named by {articles} on-story articles", True))
    return queries


def suggestions(queries: list[Query]) -> list[Suggestion]:
    return [Suggestion(engine, pattern.format(q=quote_plus(q.text)), q) for q in queries for engine, pattern in ENGINES.items()]


def search_query(url: str) -> tuple[str, str] | None:
    """(engine, query) of a news-search feed URL, or None for any other feed."""
    parts = urlsplit(url)
    engine = SEARCH_HOSTS.get((parts.hostname or "").lower())
    query = parse_qs(parts.query).get("q", [""])[0]
    return (engine, query) if engine and query else None


def superseded(feed_urls: list[str], queries: list[Query], profile: StoryProfile) -> list[Superseded]:
    """Existing search feeds that today's queries replace: one whose words are all in today's
    queries (nothing is lost), or one with words the story no longer weighs among its leading
    terms (the story moved on). Today's query sharing most of its words replaces it, on the same
    engine."""
    current = {q.text for q in queries}
    today = {w for q in queries for w in _words(" ".join(q.terms))}
    leading = {w for term in sorted(profile.weights, key=lambda t: -profile.weights[t])[:LEADING_TERMS]
               for w in term.split(" ")}
    out = []
    for url in feed_urls:
        found = search_query(url)
        if not found or found[1] in current or not queries:
            continue
        engine, text = found
        words = _words(text)
        stale = sorted(words - leading - today)
        if stale:
            reason = f"{', '.join(stale)} {'is' if len(stale) == 1 else 'are'} no longer among the story's leading terms"
        elif words <= today:
            reason = "today's queries have every term it has"
        else:
            continue
        closest = max(queries, key=lambda q: len(words & _words(" ".join(q.terms))))
        out.append(Superseded(url, text, f"{engine}: {closest.text}", reason))
    return out


def _words(query: str) -> set[str]:
    """A query's single-word story terms (stems, as the profile keys them)."""
    return {t for t in terms(query) if " " not in t}


def _weights(terms: list[tuple[str, float]]) -> str:
    return ", ".join(f"{t} {w:.2f}" for t, w in terms)
