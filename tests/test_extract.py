"""Article extraction: text without chrome, metadata, dated with its source, feed fallback."""

from datetime import datetime, timedelta, timezone

from storywatch.extractors.article import detect_language, extract_article
from storywatch.dates import choose_date, date_in_url
from storywatch.demo.sample_site import APP_SHELL, build_pages, load_articles, render_page
from storywatch.models import FeedEntry

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
BASE = "https://news.example"


def _entry(link: str, summary: str = "", published: datetime | None = None) -> FeedEntry:
    return FeedEntry("https://news.example/feed", link, link, "Feed title", summary, "", published)


def _page(slug_part: str):
    pages = build_pages(load_articles(), {}, phase=1)
    return next(p for p in pages if slug_part in p.slug)


def test_template_page_text_and_metadata():
    page = _page("open-weights-scoop")
    art = extract_article(render_page(page, BASE), f"{BASE}{page.path}?utm_source=rss", None, NOW)
    assert art.title == page.headline
    assert art.author == page.author
    assert art.outlet == "TechWire"
    assert art.canonical_url == f"{BASE}{page.path}"
    assert art.published_at == page.published.astimezone(timezone.utc)
    assert art.date_source == "page" and art.text_source == "page"
    assert art.language == "en"
    assert page.paragraphs[0][:60] in art.text and page.paragraphs[-1][:60] in art.text
    for chrome in ("Skip to main content", "Loading comments", "Related stories", "cookie"):
        assert chrome.lower() not in art.text.lower()


def test_every_outlet_template_extracts_its_body():
    pages = build_pages(load_articles(), {}, phase=1)
    for outlet in {p.outlet for p in pages}:
        page = next(p for p in pages if p.outlet == outlet)
        art = extract_article(render_page(page, BASE), f"{BASE}{page.path}", None, NOW)
        body = " ".join(page.paragraphs)
        found = sum(p[:50] in art.text for p in page.paragraphs)
        assert found >= len(page.paragraphs) - 1, (outlet, found, len(page.paragraphs))
        assert len(art.text) < len(body) * 1.3, outlet


def test_script_shell_falls_back_to_feed_text():
    entry = _entry(f"{BASE}/live", summary="Meta will open-source its next models, people familiar said.")
    art = extract_article(APP_SHELL.encode(), f"{BASE}/live", entry, NOW)
    assert art.text_source == "feed"
    assert "open-source its next models" in art.text


def test_no_text_anywhere():
    art = extract_article(APP_SHELL.encode(), f"{BASE}/live", _entry(f"{BASE}/live"), NOW)
    assert art.text == "" and art.text_source == "none"


def test_dates_from_feed_then_url_and_future_rejected():
    html = b"<html><body><article><p>" + b"Plain words without any date at all in this page. " * 10 + b"</p></article></body></html>"
    feed_date = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    art = extract_article(html, f"{BASE}/2026/11/19/story", _entry(f"{BASE}/2026/11/19/story", published=feed_date), NOW)
    assert (art.published_at, art.date_source) == (feed_date, "feed")
    future = NOW + timedelta(days=30)
    art = extract_article(html, f"{BASE}/2026/11/19/story", _entry(f"{BASE}/2026/11/19/story", published=future), NOW)
    assert (art.published_at, art.date_source) == (datetime(2026, 11, 19, tzinfo=timezone.utc), "url")
    assert choose_date(future, None, None, NOW) == (None, "none")
    assert choose_date(datetime(1990, 1, 1, tzinfo=timezone.utc), None, None, NOW) == (None, "none")


def test_date_in_url():
    assert date_in_url("https://x.example/2025/03/04/a") == datetime(2025, 3, 4, tzinfo=timezone.utc)
    assert date_in_url("https://x.example/news-2025-12-31-b") == datetime(2025, 12, 31, tzinfo=timezone.utc)
    assert date_in_url("https://x.example/2025/13/40/a") is None
    assert date_in_url("https://x.example/a") is None


def test_cross_site_canonical_is_not_adopted():
    page = _page("open-weights-scoop")
    html = render_page(page, "https://original.example")
    art = extract_article(html, f"{BASE}/copy/{page.slug}", None, NOW)
    assert art.canonical_url == f"{BASE}/copy/{page.slug}"


def test_language_is_detected_offline_from_the_text_and_left_empty_for_a_scrap():
    texts = {
        "de": "Meta will seine neuen KI-Modelle unter der Leitung von Alexandr Wang als Open Source veröffentlichen.",
        "fr": "Meta s'apprête à publier ses nouveaux modèles d'intelligence artificielle en source ouverte.",
        "es": "Meta se prepara para publicar sus nuevos modelos de inteligencia artificial como código abierto.",
        "en": "Meta is preparing to open-source its new AI models under Alexandr Wang, people familiar said.",
    }
    assert {code: detect_language(text) for code, text in texts.items()} == {code: code for code in texts}
    assert detect_language("Meta AI") == ""
