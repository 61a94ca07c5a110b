"""Sentence splitting: abbreviations, decimals and quotes do not cut sentences; chrome, headings,
reprint notices and fragments are dropped; paragraphs are counted."""

from pathlib import Path

from storywatch.sentences import Sentence, is_boilerplate, paragraphs, split_paragraph, split_sentences

SEEDS = Path(__file__).resolve().parents[1] / "seeds" / "meta-open-models"


def test_abbreviations_decimals_and_initials_do_not_end_sentences():
    text = ("Meta paid about $14.3 billion for a stake in Scale AI in the U.S. The deal closed on Dec. 9, 2026. "
            "Mr. Zuckerberg and Alexandr N. Wang met at the U.S. Federal Trade Commission on Friday. "
            "Apache 2.0 is not the licence, e.g. for Avocado.")
    assert split_paragraph(text) == [
        "Meta paid about $14.3 billion for a stake in Scale AI in the U.S.",
        "The deal closed on Dec. 9, 2026.",
        "Mr. Zuckerberg and Alexandr N. Wang met at the U.S. Federal Trade Commission on Friday.",
        "Apache 2.0 is not the licence, e.g. for Avocado.",
    ]


def test_quotes_stay_with_their_sentence():
    text = ('"We want developers to have a genuinely strong model," said Lena Marchetti. '
            '"The 70B is not a cut-down teaser." Developers reacted quickly! Was it enough? "No," one said.')
    assert split_paragraph(text) == [
        '"We want developers to have a genuinely strong model," said Lena Marchetti.',
        '"The 70B is not a cut-down teaser."',
        "Developers reacted quickly!",
        "Was it enough?",
        '"No," one said.',
    ]


def test_ambiguous_abbreviation_splits_only_before_a_sentence_opener():
    assert split_paragraph("Shares of Acme Inc. rose. They bought Acme Inc. The deal closed. She said no. Meta agreed.") == [
        "Shares of Acme Inc. rose.",
        "They bought Acme Inc.",
        "The deal closed.",
        "She said no.",
        "Meta agreed.",
    ]
    assert split_paragraph("See No. 5 on the list. Figures are in fig. 3 below.") == [
        "See No. 5 on the list.",
        "Figures are in fig. 3 below.",
    ]


def test_chrome_headings_bullets_and_reprint_notices_are_dropped():
    text = "\n".join([
        "Skip to main content",
        "Key Takeaways",
        "- •Meta to release select AI models under open-source license.",
        "",
        "Meta's Avocado models will ship with downloadable weights. The largest ones will not.",
        "Share this article",
        "This article first appeared on TechWire and is republished with permission.",
        "Loading comments…",
        "Please log in or register to join the discussion",
    ])
    assert split_sentences(text) == [
        Sentence("Meta to release select AI models under open-source license.", 0, 0),
        Sentence("Meta's Avocado models will ship with downloadable weights.", 1, 1),
        Sentence("The largest ones will not.", 1, 2),
    ]


def test_update_paragraph_that_mentions_first_publication_is_kept():
    text = ("Update: After this article was first published, a person involved in the partner consultations "
            "said a revised draft circulated on Wednesday evening adds a clause.")
    assert not is_boilerplate(text)
    assert [s.text for s in split_sentences(text)] == [text]
    assert is_boilerplate("This story originally appeared in Signal Daily.")


def test_hard_wrapped_lines_are_joined():
    text = "Meta will make the first Avocado models available\non December 9, the company said.\nA new paragraph starts here now."
    assert paragraphs(text) == [
        "Meta will make the first Avocado models available on December 9, the company said.",
        "A new paragraph starts here now.",
    ]


def test_seed_text_headings_are_not_sentences():
    sentences = split_sentences((SEEDS / "000_7a387b1d4d459a5a.txt").read_text("utf-8"))
    texts = [s.text for s in sentences]
    assert "Why It Matters" not in texts and "Key Takeaways" not in texts and "Pulse Analysis" not in texts
    assert texts[:4] == [
        "Open-Source Leaders Question Whether Meta’s Alexandr Wang Will Truly Give Away Its AI Models",
        "If Meta delivers genuinely open models, it could reshape AI adoption curves and pressure competitors "
        "to rethink proprietary approaches, while also raising governance demands for enterprises.",
        "Meta to release select AI models under open-source license.",
        "Wang aims to boost developer adoption and ecosystem influence.",
    ]
    assert [s.index for s in sentences] == list(range(len(sentences)))
