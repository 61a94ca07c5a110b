"""Hard facts: money, sizes, percentages, dates and names, with normal forms that make two
wordings of one fact equal."""

import json
from importlib import resources

from storywatch.facts import Fact, extract_facts, numeric_facts, numeric_keys


def _norm(sentence: str, kind: str, context: str | None = None) -> list[str]:
    return [f.normalized for f in extract_facts(sentence, context) if f.kind == kind]


def test_scoop_sentence_money_and_names():
    sentence = ("After the Llama 4 family landed with a muted reception, chief executive Mark Zuckerberg paid "
                "roughly $15 billion for a large stake in Scale AI and brought Alexandr Wang in to run a new lab.")
    assert extract_facts(sentence) == [
        Fact("name", "Llama 4", "llama 4"),
        Fact("name", "Mark Zuckerberg", "mark zuckerberg"),
        Fact("money", "$15 billion", "USD 15000000000"),
        Fact("name", "Scale AI", "scale ai"),
        Fact("name", "Alexandr Wang", "alexandr wang"),
    ]


def test_release_sentence_sizes_and_dates():
    sentence = ("On Friday, Meta said it will release a 70-billion-parameter model and a 12-billion-parameter version on Dec. 9, 2026, "
                "both with a 256,000-token context window.")
    assert extract_facts(sentence) == [
        Fact("name", "Meta", "meta"),
        Fact("quantity", "70-billion-parameter", "70000000000 parameters"),
        Fact("quantity", "12-billion-parameter", "12000000000 parameters"),
        Fact("date", "Dec. 9, 2026", "2026-12-09"),
        Fact("quantity", "256,000-token", "256000 tokens"),
    ]


def test_two_wordings_of_one_fact_normalize_equal():
    assert _norm("Meta paid $15 billion for the stake.", "money") == _norm("Meta paid 15 billion dollars for it.", "money")
    assert _norm("Meta paid US$15bn for the stake.", "money") == ["USD 15000000000"]
    assert _norm("Meta paid $15B for the stake.", "money") == ["USD 15000000000"]
    assert _norm("The model has 70 billion parameters.", "quantity") == _norm("It is a 70-billion-parameter model.", "quantity")
    assert _norm("The model has 70 billion parameters.", "quantity") == ["70000000000 parameters"]
    assert _norm("It launches December 9.", "date") == _norm("It launches Dec. 9.", "date") == ["--12-09"]
    assert _norm("The share is about 8 percent.", "percent") == _norm("The share is about 8%.", "percent") == ["8%"]
    assert _norm("Context of 256,000 tokens is supported.", "quantity") == _norm("A 256,000-token context is supported.", "quantity")


def test_other_currencies_percentages_and_dates():
    assert extract_facts("Rivals raised €2bn and £3m, up 2 percentage points, in December 2026 and Q1 2027.") == [
        Fact("money", "€2bn", "EUR 2000000000"),
        Fact("money", "£3m", "GBP 3000000"),
        Fact("percent", "2 percentage points", "2 pp"),
        Fact("date", "December 2026", "2026-12"),
        Fact("date", "Q1 2027", "2027-Q1"),
    ]
    assert _norm("Access starts in the first quarter of 2027.", "date") == ["2027-Q1"]
    assert _norm("It was announced on 9 December 2026 in London.", "date") == ["2026-12-09"]


def test_counts_with_units_stop_at_function_words():
    sentence = ("The licence sets a threshold of 300 million monthly active users above which companies must "
                "seek a deal, and the draft runs to about 14 pages.")
    assert [(f.text, f.normalized) for f in extract_facts(sentence) if f.kind == "quantity"] == [
        ("300 million monthly active users", "300000000 monthly active users"),
        ("14 pages", "14 pages"),
    ]
    # a bare year or a number with no unit is not a fact; nor are relative dates
    assert numeric_facts("In 2025 the 70B was the talk of the town, and the release comes next spring.") == []
    assert numeric_facts("By 2030 regulators will want a 2030-era plan for 2,000 employees.") == [
        Fact("quantity", "2,000 employees", "2000 employees")]


def test_names_skip_sentence_openers_months_days_and_generic_acronyms():
    sentence = ('"We want developers to own it," said Lena Marchetti, Meta\'s vice-president, on Friday in December, '
                "adding that the AI assistant runs on WhatsApp, Instagram and Facebook.")
    assert _norm(sentence, "name") == ["lena marchetti", "meta", "whatsapp", "instagram", "facebook"]
    assert _norm("Developers reacted quickly to the Avocado news.", "name") == ["avocado"]
    assert _norm("Chinese labs and OpenAI have released open models at the University of Cambridge.", "name") == [
        "openai", "university of cambridge"]
    assert _norm("Alexandr Wang of Scale AI met Mr. Zuckerberg.", "name") == ["alexandr wang", "scale ai", "zuckerberg"]


def test_sentence_initial_name_needs_context():
    article = "Meta declined to comment.\nA spokesperson for Meta pointed to earlier statements."
    assert _norm("Meta declined to comment.", "name") == []
    assert _norm("Meta declined to comment.", "name", context=article) == ["meta"]
    # a common word that opens the sentence is not capitalised elsewhere, so it stays out
    assert _norm("Smaller variants of Avocado come first.", "name", context=article + "\nSmaller variants come first.") == ["avocado"]


def test_title_case_headlines_give_no_names_but_keep_numbers():
    assert extract_facts("Meta Plans Open-Source Release Of Next-Gen AI Models Under New Leadership") == []
    assert extract_facts("Meta Sets December 9 Launch For Avocado Models") == [Fact("date", "December 9", "--12-09")]


def test_numeric_keys_ignore_names():
    assert numeric_keys("Meta paid $15 billion for Scale AI on June 12, 2025.") == frozenset(
        {"money:USD 15000000000", "date:2025-06-12"})


def test_pass_two_demo_article_facts():
    articles = json.loads(resources.files("storywatch.demo").joinpath("site/articles.json").read_text("utf-8"))
    later = next(a for a in articles if a["pass"] == 2)
    text = "\n".join(later["paragraphs"])
    found = {(f.kind, f.normalized) for p in later["paragraphs"] for f in extract_facts(p, text)}
    assert {
        ("date", "--12-09"),
        ("quantity", "70000000000 parameters"),
        ("quantity", "12000000000 parameters"),
        ("quantity", "256000 tokens"),
        ("date", "2027-Q1"),
        ("money", "USD 50000000"),
        ("money", "USD 500000"),
        ("quantity", "300000000 monthly active users"),
        ("name", "lena marchetti"),
        ("name", "alexandr wang"),
        ("name", "scale ai"),
    } <= found
    assert not {f for f in found if f[0] == "name" and f[1] in {"friday", "december", "the", "within", "developers"}}
