"""Feed bytes to entries, and feed lists (OPML / plain text)."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storywatch.extractors.feedlist import parse_feed_list
from storywatch.extractors.feeds import parse_feed
from storywatch.errors import ConfigError

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def test_rss_links_resolved_deduplicated_and_unwrapped():
    parsed = parse_feed((FEEDS / "relative-links.xml").read_bytes(), "https://rel.example/feeds/main.xml")
    assert parsed.error is None
    assert parsed.title == "Relative Times"
    links = [e.link for e in parsed.entries]
    assert links == [
        "https://rel.example/news/first-story",
        "https://rel.example/news/dupe",
        "https://rel.example/feeds/news/second",
        "https://rel.example/news/future",
        "https://rel.example/news/past",
        "https://publisher.example/story-9",
    ]
    # One GUID, two articles: each keeps an identity of its own; the word-for-word repeat and
    # the item with no link are counted, not silently lost.
    assert len({e.guid for e in parsed.entries}) == len(parsed.entries)
    assert parsed.entries[0].guid.endswith("a-1 https://rel.example/news/first-story")
    assert (parsed.without_link, parsed.repeats) == (1, 1)
    first = parsed.entries[0]
    assert first.title == "First & foremost"
    assert first.summary == "Lead paragraph bold."
    assert first.published_at.isoformat() == "2026-11-20T10:00:00+00:00"
    assert [e.published_at for e in parsed.entries[2:5]] == [None, None, None]  # unparseable, 9999, 1900


def test_ten_thousand_entries_are_all_kept():
    items = "".join(f"<item><title>Item {i}</title><link>/news/{i}</link><guid>g{i}</guid></item>" for i in range(10_000))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    parsed = parse_feed(body, "https://big.example/feed.xml")
    assert parsed.error is None and len(parsed.entries) == 10_000
    assert parsed.entries[-1].link == "https://big.example/news/9999"


def test_items_without_links_are_one_clear_error():
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>a</title></item><item><title>b</title></item></channel></rss>'
    parsed = parse_feed(body, "https://nolink.example/feed.xml", "application/rss+xml")
    assert parsed.error == "feed has 2 item(s) but none with a usable http(s) link"


def test_atom_entry_with_only_a_self_link_is_kept():
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>Self</title>'
            b'<link href="http://example.org/1000" rel="self"/><id>urn:uuid:1</id></entry></feed>')
    parsed = parse_feed(body, "https://atom.example/feed.atom", "application/atom+xml")
    assert [e.link for e in parsed.entries] == ["http://example.org/1000"]


def test_atom_content_and_xml_base():
    parsed = parse_feed((FEEDS / "atom.xml").read_bytes(), "https://atom.example/feed.atom")
    assert [e.link for e in parsed.entries] == ["https://atom.example/blog/posts/one", "https://other.example/two"]
    assert parsed.entries[0].content == "Body one.\nSecond para."
    assert parsed.entries[1].published_at.isoformat() == "2026-11-18T06:30:00+00:00"


def test_html_page_is_one_clear_error():
    parsed = parse_feed((FEEDS / "not-a-feed.html").read_bytes(), "https://x.example/feed")
    assert parsed.entries == []
    assert parsed.error and parsed.error.startswith("not a feed")


def test_empty_body_is_an_error():
    assert parse_feed(b"", "https://x.example/feed").error


def test_billion_laughs_and_external_entities_do_not_expand():
    levels = [b'<!ENTITY l0 "lol">'] + [
        b'<!ENTITY l%d "%s">' % (i, b"".join(b"&l%d;" % (i - 1) for _ in range(10))) for i in range(1, 10)
    ]
    doc = (b'<?xml version="1.0"?><!DOCTYPE rss [' + b"".join(levels) + b'<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
           b'<rss version="2.0"><channel><title>&l9;</title><item><title>t &ext;</title>'
           b"<link>https://x.example/a</link></item></channel></rss>")
    parsed = parse_feed(doc, "https://x.example/feed")
    assert len(parsed.title) < 100_000  # 10^9 "lol"s would be 3 GB
    assert all("root:" not in e.title for e in parsed.entries)


def test_opml_list_in_order_without_repeats():
    feeds = parse_feed_list((FEEDS / "feeds.opml").read_bytes(), "feeds.opml")
    assert [f.url for f in feeds] == ["https://a.example/feed", "https://b.example/rss"]
    assert feeds[1].title == "B feed"


def test_plain_list_with_comments():
    data = b"# my feeds\nhttps://a.example/feed  # tech\n\n  https://b.example/rss\n"
    assert [f.url for f in parse_feed_list(data, "feeds.txt")] == ["https://a.example/feed", "https://b.example/rss"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"# nothing\n", "feeds.txt: no feeds listed"),
        (b"file:///etc/passwd\n", "feeds.txt: feed 'file:///etc/passwd': scheme 'file' not allowed"),
        (b"<opml><body><outline", "feeds.txt: not valid OPML"),
    ],
)
def test_bad_feed_lists_name_the_file_and_cause(data, message):
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")):
        parse_feed_list(data, "feeds.txt")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_parse_feed_never_raises_on_arbitrary_bytes(data):
    parsed = parse_feed(data, "https://x.example/feed")
    # Either entries, or no entries with (for non-feeds) one error line; never an exception.
    assert parsed.error is None or (parsed.entries == [] and "\n" not in parsed.error)


def test_news_search_feed_titles_outlets_and_links():
    parsed = parse_feed((FEEDS / "google-news.xml").read_bytes(), "https://news.google.com/rss/search?q=x")
    first, second = parsed.entries
    assert first.title == "Meta readies open-source release of Wang's first models"
    assert first.source_name == "The Signal"
    assert first.link == "https://signal.example/2026/11/meta-open-models"
    assert second.source_name == "Daily Wire Service"
    assert second.link.startswith("https://news.google.com/rss/articles/")  # token without a URL: kept
