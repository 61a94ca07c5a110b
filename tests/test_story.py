"""Story folders: seeds of every kind, validated story.toml, one-line errors naming the file."""

import shutil

import pytest

from storywatch.errors import ConfigError
from storywatch.extractors.story import load_story
from tests.conftest import SEED_STORY


def test_bundled_story_loads_with_real_feed_list():
    story = load_story(SEED_STORY)
    assert story.slug == "meta-open-models"
    assert sorted(story.seeds) == sorted(p.name for p in SEED_STORY.glob("*.txt"))
    assert len(story.feeds) >= 10 and all(f.url.startswith("https://") for f in story.feeds)
    assert any("news.google.com" in f.url for f in story.feeds)
    # page chrome is stripped from seed texts
    assert not any(line.strip() in ("Comments", "Skip to main content") for t in story.seeds.values() for line in t.splitlines())


def _copy_story(tmp_path):
    folder = tmp_path / "s"
    shutil.copytree(SEED_STORY, folder)
    return folder


@pytest.mark.parametrize("name, data, message", [
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "seed is a binary file, not text"),
    ("latin1.txt", ("Meta's caf\u00e9 " * 30).encode("latin-1"), r"seed is not UTF-8 text \(byte 0xe9 at offset 10\)"),
    ("stub.txt", b"Meta to open-source its models.", r"seed too short to define a story \(6 words; at least 40\)"),
    ("empty.txt", b"   \n", "seed has no article text"),
])
def test_a_bad_seed_is_refused_in_one_line_naming_it(tmp_path, name, data, message):
    folder = _copy_story(tmp_path)
    (folder / name).write_bytes(data)
    with pytest.raises(ConfigError, match=message) as info:
        load_story(folder)
    assert str(info.value).startswith(f"{folder / name}: ") and "\n" not in str(info.value)


def test_a_folder_with_no_seeds_is_refused(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "story.toml").write_text('title = "x"\nfeeds = "feeds.txt"\n', "utf-8")
    (folder / "feeds.txt").write_text("https://example.com/feed\n", "utf-8")
    with pytest.raises(ConfigError, match=r"no seed articles"):
        load_story(folder)


def test_html_and_md_seeds(tmp_path):
    folder = _copy_story(tmp_path)
    (folder / "extra.html").write_text(
        "<html><head><title>x</title></head><body><nav>Home</nav><article><h1>Meta opens models</h1><p>"
        + "Meta will release open-source versions of the models built under Alexandr Wang. " * 6
        + "</p></article><footer>Comments</footer></body></html>", "utf-8")
    (folder / "notes.md").write_text("# Meta and open models\n\n"
                                     + "Wang's team plans an open-source release of the new models. " * 5, "utf-8")
    story = load_story(folder)
    assert "Alexandr Wang" in story.seeds["extra.html"] and "<p>" not in story.seeds["extra.html"]
    assert "open-source release" in story.seeds["notes.md"]


@pytest.mark.parametrize(
    "toml, message",
    [
        ('title = "x"\nfeeds = "feeds.opml"\ntypo = 1\n', r"story\.toml: field 'typo': Extra inputs are not permitted"),
        ('title = "x"\n[thresholds]\nrelevance = 3\n', r"story\.toml: field 'thresholds\.relevance': Input should be less than or equal to 1"),
        ('feeds = "feeds.opml"\n', r"story\.toml: field 'title': Field required"),
        ('title = "x"\n[recheck]\ntiers = ["1h", "soon"]\n',
         r"story\.toml: field 'recheck\.tiers': Value error, not a duration: 'soon' \(use e\.g\. 15m, 1h, 3d\)$"),
        ('title = "x\n', r"story\.toml: invalid TOML"),
        ('title = "x"\n[[alerts.channels]]\nurl = "json://127.0.0.1/x"\ntimezone = "Mars/Olympus"\n',
         r"story\.toml: field 'alerts\.channels\.0\.timezone': Value error, unknown time zone 'Mars/Olympus'"),
        ('title = "x"\n[[alerts.channels]]\nurl = "json://127.0.0.1/x"\ntimezone = "Europe"\n',
         r"field 'alerts\.channels\.0\.timezone': Value error, unknown time zone 'Europe'"),
        ('title = "x"\nfeeds = "missing.opml"\n', r"missing\.opml: cannot read feeds file"),
    ],
)
def test_bad_config_is_one_line_naming_file_and_field(tmp_path, toml, message):
    folder = _copy_story(tmp_path)
    (folder / "story.toml").write_text(toml, "utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_story(folder)
    assert "\n" not in str(info.value)


def test_missing_folder_and_no_seeds(tmp_path):
    with pytest.raises(ConfigError, match="story folder not found"):
        load_story(tmp_path / "nope")
    folder = _copy_story(tmp_path)
    for seed in folder.glob("*.txt"):
        seed.unlink()
    with pytest.raises(ConfigError, match="no seed articles"):
        load_story(folder)
