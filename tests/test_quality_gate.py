"""The quality gate's own rules (bench/quality.py): floors only go up, a drop beyond epsilon fails,
lowering needs a reason; and the scoring and page-variant helpers it relies on."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import dedupe as dedupe_bench  # noqa: E402
import quality  # noqa: E402


def test_check_fails_only_beyond_epsilon():
    floors = {"a": 0.95, "b": 1.0}
    assert quality.check({"a": 0.946, "b": 1.0}, floors, 0.005) == []
    failures = quality.check({"a": 0.944, "b": 1.0}, floors, 0.005)
    assert len(failures) == 1 and failures[0].startswith("a:")
    assert quality.check({"a": 0.99}, floors, 0.005) == ["b: not measured (floor 1.000)"]


def test_update_raises_and_refuses_to_lower(tmp_path):
    path = tmp_path / "baseline.json"
    baseline = {"epsilon": 0.005, "corpus": {"a": 0.9, "b": 0.8}}
    path.write_text(json.dumps(baseline))
    ok, lines = quality.update(json.loads(path.read_text()), "corpus", {"a": 0.93456, "b": 0.7}, None, path)
    assert not ok and any("b: 0.800 -> 0.700" in line for line in lines)
    assert json.loads(path.read_text()) == baseline  # nothing written

    ok, lines = quality.update(json.loads(path.read_text()), "corpus", {"a": 0.93456, "b": 0.8, "c": 1.0}, None, path)
    assert ok
    assert json.loads(path.read_text())["corpus"] == {"a": 0.934, "b": 0.8, "c": 1.0}

    ok, lines = quality.update(json.loads(path.read_text()), "corpus", {"a": 0.934, "b": 0.7}, "new harder set", path)
    assert ok and "  reason: new harder set" in lines
    assert json.loads(path.read_text())["corpus"] == {"a": 0.934, "b": 0.7}  # c removed on purpose


def test_token_and_snippet_scores():
    assert quality.token_prf("a b c", "a b c") == (1.0, 1.0, 1.0)
    p, r, f = quality.token_prf("a b x y", "a b")
    assert (p, r) == (0.5, 1.0) and abs(f - 2 / 3) < 1e-9
    assert quality.token_prf("", "a b") == (0.0, 0.0, 0.0)
    # one must-snippet found (tp), one missed (fn), one must-not found (fp)
    p, r, _ = quality.snippet_prf([("Hello  big\nworld. Footer", ["big world", "absent"], ["Footer", "nav"])])
    assert (p, r) == (0.5, 0.5)


def test_transplant_replaces_the_templates_article():
    template = (b"<html><head><title>Old headline</title><meta property='og:title' content='Old headline'>"
                b"<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": \"Old headline\","
                b" \"articleBody\": \"The old article body text goes here.\"}</script></head><body>"
                b"<nav>Home News Sport</nav><h1>Old headline</h1><div class='story'>"
                b"<p>The old article first paragraph is here.</p><p>The old article second paragraph is here.</p>"
                b"</div><footer>Contact us about anything</footer></body></html>")
    old_text = "The old article first paragraph is here.\n\nThe old article second paragraph is here."
    page = dedupe_bench.transplant(template, old_text, "New headline", ["Our first paragraph of news.", "Our second one."])
    html = page.decode("utf-8")
    assert "old article first paragraph" not in html and "old article body" not in html
    assert html.index("Our first paragraph") < html.index("Our second one.") < html.index("Contact us")
    assert "Home News Sport" in html and "<title>New headline</title>" in html
    assert html.count("New headline") >= 3  # title, og:title, h1 (and the JSON-LD headline)


def test_url_variants_share_the_articles_id():
    result = dedupe_bench.measure_urls(["https://www.example.com/2025/03/04/story", "https://example.org/a/b"])
    assert result["precision"] == 1.0 and result["recall"] == 1.0
