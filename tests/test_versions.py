"""Version diffs: added, removed, changed and moved sentences, whole paragraphs, the headline flag
and the one-line summary."""

from storywatch.demo.sample_site import EDITED_SLUG, load_articles
from storywatch.versions import diff_versions

OLD = """Meta will make the first Avocado models available on December 9, the company said.
The release includes a 70-billion-parameter model for companies running their own servers.
Meta declined to comment on the licence terms.
Developers reacted quickly on programming forums and compared the model with rivals."""


def test_demo_edit_headline_and_added_paragraph():
    article = next(a for a in load_articles() if a["slug"] == EDITED_SLUG)
    edit = article["edited"]
    new_paragraphs = list(article["paragraphs"])
    new_paragraphs.insert(edit["added_paragraph_after"] + 1, edit["paragraph"])
    diff = diff_versions("\n".join(article["paragraphs"]), "\n".join(new_paragraphs),
                         article["headline"], edit["headline"])
    assert diff.summary == "headline changed; 1 paragraph added (2 sentences); 0 removed"
    assert diff.headline_changed
    assert [s.text for s in diff.added] == [
        edit["paragraph"].split(" The person put")[0],
        "The person put the proposed share at about 8 percent.",
    ]
    assert [s.paragraph for s in diff.added] == [5, 5]
    assert diff.removed == () and diff.changed == () and diff.moved == ()
    assert diff.as_record()["added"] == [s.text for s in diff.added]


def test_changed_word_is_a_changed_pair_and_unrelated_rewrite_is_removed_plus_added():
    new = (OLD.replace("December 9", "December 10")
              .replace("Meta declined to comment on the licence terms.",
                       "A spokesperson pointed reporters to a blog post about safety reviews."))
    diff = diff_versions(OLD, new)
    assert [(c.old.text, c.new.text) for c in diff.changed] == [(
        "Meta will make the first Avocado models available on December 9, the company said.",
        "Meta will make the first Avocado models available on December 10, the company said.",
    )]
    assert diff.changed[0].similarity == 0.75
    assert [s.text for s in diff.removed] == ["Meta declined to comment on the licence terms."]
    assert [s.text for s in diff.added] == ["A spokesperson pointed reporters to a blog post about safety reviews."]
    # each replaced line was a whole paragraph of its own
    assert diff.summary == "1 paragraph added (1 sentence); 1 sentence changed; 1 paragraph removed (1 sentence)"
    assert not diff.headline_changed


def test_sentence_added_inside_a_paragraph_and_paragraph_removed():
    lines = OLD.splitlines()
    new = "\n".join([lines[0] + " Pricing was not disclosed at the event.", lines[1], lines[3]])
    diff = diff_versions(OLD, new, "Meta sets Avocado launch", "Meta sets Avocado launch")
    assert [s.text for s in diff.added] == ["Pricing was not disclosed at the event."]
    assert [s.text for s in diff.removed] == ["Meta declined to comment on the licence terms."]
    assert diff.summary == "1 sentence added; 1 paragraph removed (1 sentence)"


def test_moved_paragraph_is_not_added_or_removed():
    lines = OLD.splitlines()
    diff = diff_versions(OLD, "\n".join([lines[3], lines[0], lines[1], lines[2]]))
    assert diff.added == () and diff.removed == ()
    assert [s.text for s in diff.moved] == [lines[3]]
    assert diff.summary == "0 added; 1 sentence moved; 0 removed"


def test_typesetting_and_headline_case_are_not_changes():
    retyped = OLD.replace("the company said.", "the company said .").replace("\n", "\n\n")
    diff = diff_versions(OLD, "Skip to main content\n" + retyped, "Meta sets Avocado launch", "META SETS AVOCADO LAUNCH")
    assert not diff.any_change
    assert diff.summary == "no change"
    headline_only = diff_versions(OLD, OLD, "Meta sets Avocado launch", "Meta sets December 9 Avocado launch")
    assert headline_only.summary == "headline changed; 0 added; 0 removed"
