"""The bundled sample news site: five fictional outlets' pages and feeds, built from
`site/articles.json`, `site/templates/` and the story's seed texts, served from 127.0.0.1.

Phase 1 is the site at the first pass; phase 2 adds one new on-story article and edits one
article (new headline, an added paragraph). Feeds answer conditional GETs, so unchanged feeds
return 304 on the second pass."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from string import Template
from urllib.parse import parse_qs, urlsplit

from storywatch.demo import loopback
from storywatch.demo.loopback import LoopbackServer

SITE_NAMES = {
    "techwire": "TechWire",
    "signal-daily": "Signal Daily",
    "the-ledger": "The Ledger",
    "kitchen-table": "Kitchen Table",
    "gadget-hub": "Gadget Hub",
}
EDITED_SLUG = "meta-avocado-licence-terms"
APP_SHELL = "<!DOCTYPE html><html><head><title>Loading…</title></head><body><div id=root></div><script src=/app.js></script></body></html>"


@dataclass(frozen=True)
class Page:
    outlet: str
    slug: str
    headline: str
    author: str
    published: datetime
    paragraphs: tuple[str, ...]
    label: str
    phase: int = 1
    summary: str | None = None  # feed summary; None means the first paragraph

    @property
    def path(self) -> str:
        return f"/{self.outlet}/{self.slug}"


def load_articles() -> list[dict]:
    return json.loads(resources.files("storywatch.demo").joinpath("site/articles.json").read_text("utf-8"))


def _template(outlet: str) -> Template:
    return Template(resources.files("storywatch.demo").joinpath(f"site/templates/{outlet}.html").read_text("utf-8"))


def build_pages(articles: list[dict], seeds: dict[str, str], phase: int) -> list[Page]:
    """Every page the site shows in `phase`: the written articles, seed copies in other
    outlets' templates, and syndicated copies with a new headline and a paragraph changed."""
    pages: list[Page] = []
    for a in articles:
        if a["pass"] > phase:
            continue
        headline, paragraphs = a["headline"], list(a["paragraphs"])
        edit = a.get("edited")
        if edit and phase >= 2:
            headline = edit["headline"]
            paragraphs.insert(edit["added_paragraph_after"] + 1, edit["paragraph"])
        pages.append(Page(a["outlet"], a["slug"], headline, a["author"],
                          datetime.fromisoformat(a["published"]), tuple(paragraphs), a["label"], a["pass"]))
    originals = [p for p in pages if p.label == "on_story" and p.phase == 1 and p.slug != EDITED_SLUG]
    first = min((p.published for p in originals), default=datetime.fromisoformat("2026-11-20T09:00:00+00:00"))
    for i, (name, text) in enumerate(list(seeds.items())[2:4]):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        pages.append(Page("the-ledger", f"wire-copy-{i + 1}", f"Wire: {lines[0]}", "Ledger Wire Desk",
                          first - timedelta(hours=20 - i), tuple(lines[1:]), "seed_copy"))
    for i, original in enumerate(originals[:2]):
        body = list(original.paragraphs[:-1])
        body.append(f"This article first appeared on {SITE_NAMES[original.outlet]} and is republished with permission.")
        pages.append(Page("gadget-hub", f"syndicated-{original.slug}", f"Syndicated: {original.headline}",
                          original.author, original.published + timedelta(hours=2 + i), tuple(body), "syndicated"))
    return pages


def render_page(page: Page, base: str) -> bytes:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in page.paragraphs)
    return _template(page.outlet).substitute(
        site_name=SITE_NAMES[page.outlet], headline=html.escape(page.headline), author=html.escape(page.author),
        published=page.published.isoformat(), canonical=f"{base}{page.path}", body=body,
    ).encode("utf-8")


def render_rss(title: str, base: str, items: list[tuple[str, str, str, datetime]]) -> bytes:
    """RSS 2.0 with (title, link, summary, published) items, newest first; the GUID is the
    link without its query string (tracking parameters), or the whole link for redirect links."""
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{html.escape(title)}</title>'
           f"<link>{base}/</link><description>{html.escape(title)}</description>"]
    for item_title, link, summary, published in sorted(items, key=lambda i: i[3], reverse=True):
        out.append(
            f"<item><title>{html.escape(item_title)}</title><link>{html.escape(link)}</link>"
            f"<guid isPermaLink=\"false\">{html.escape(link if '/go?' in link else link.split('?')[0])}</guid>"
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{html.escape(summary)}</description></item>"
        )
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


def render_atom(title: str, base: str, items: list[tuple[str, str, str, datetime]]) -> bytes:
    entries = "".join(
        f"<entry><title>{html.escape(t)}</title><link rel=\"alternate\" href=\"{html.escape(link)}\"/>"
        f"<id>{html.escape(link)}</id><updated>{p.isoformat()}</updated><summary>{html.escape(s)}</summary></entry>"
        for t, link, s, p in sorted(items, key=lambda i: i[3], reverse=True)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{html.escape(title)}</title><id>{base}/</id><updated>2026-11-22T00:00:00Z</updated>"
            f"{entries}</feed>").encode("utf-8")


class DemoSite:
    """All routes of the sample site for one phase, as bytes."""

    def __init__(self, seeds: dict[str, str], base: str) -> None:
        self.seeds = seeds
        self.base = base
        self.articles = load_articles()
        self.set_phase(1)

    def set_phase(self, phase: int) -> None:
        self.phase = phase
        self.pages = build_pages(self.articles, self.seeds, phase)
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        for page in self.pages:
            self.routes[page.path] = (200, "text/html; charset=utf-8", render_page(page, self.base))
        self.routes["/gadget-hub/live-blog-app"] = (200, "text/html; charset=utf-8", APP_SHELL.encode())
        for outlet, name in SITE_NAMES.items():
            items = [(p.headline, f"{self.base}{p.path}?utm_source=rss&utm_medium=feed", p.paragraphs[0], p.published)
                     for p in self.pages if p.outlet == outlet]
            if outlet == "gadget-hub":
                items.append(("Live: follow our AI coverage", f"{self.base}/gadget-hub/live-blog-app", "",
                              datetime.fromisoformat("2026-11-21T08:00:00+00:00")))
            if outlet == "techwire":
                items.append(("Meta's AI roadmap, explained", f"{self.base}/techwire/removed-story", "",
                              datetime.fromisoformat("2026-11-21T07:00:00+00:00")))
            render = render_atom if outlet == "signal-daily" else render_rss
            self.routes[f"/feeds/{outlet}.xml"] = (200, "application/xml", render(name, self.base, items))
        search = [(f"{p.headline} - {SITE_NAMES[p.outlet]}", f"{self.base}/go?to={p.outlet}/{p.slug}",
                   p.paragraphs[0][:200], p.published)
                  for p in self.pages if p.label == "on_story"]
        self.routes["/feeds/news-search.xml"] = (200, "application/rss+xml", render_rss("News search: Meta Alexandr Wang open source", self.base, search))
        self.routes["/feeds/retired.xml"] = (200, "text/html", b"<html><body><h1>This feed has moved</h1></body></html>")

    def feed_urls(self) -> list[str]:
        return [f"{self.base}{path}" for path in sorted(self.routes) if path.startswith("/feeds/")]

    def respond(self, target: str, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        if parts.path == "/go":
            dest = parse_qs(parts.query).get("to", [""])[0]
            return 302, {"Location": f"{self.base}/{dest}"}, b""
        if parts.path not in self.routes:
            return 404, {"Content-Type": "text/html"}, b"<html><body><h1>Not found</h1></body></html>"
        status, content_type, body = self.routes[parts.path]
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if if_none_match == etag:
            return 304, {"ETag": etag}, b""
        return status, {"Content-Type": content_type, "ETag": etag}, body


def serve(site_factory) -> tuple[LoopbackServer, DemoSite]:  # noqa: ANN001
    """Start the site on a free loopback port; `site_factory(base)` builds it."""
    holder: dict[str, DemoSite] = {}
    server = loopback.serve(lambda path, headers: holder["site"].respond(path, headers.get("If-None-Match")))
    holder["site"] = site_factory(server.base)
    return server, holder["site"]
