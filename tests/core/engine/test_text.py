"""Sentence segmentation and cleaning on the cases that break naive splitters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.engine.text import clean_markdown, content_words, segment_document, segment_sources


def sentences_of(text: str) -> list[str]:
    return [sentence.text for sentence in segment_sources([text])]


def test_abbreviations_and_titles_do_not_end_sentences() -> None:
    text = "Dr. Jane Smith met Mr. Brown at 5 p.m. on Friday. They discussed the budget, e.g. salaries."
    assert sentences_of(text) == [
        "Dr. Jane Smith met Mr. Brown at 5 p.m. on Friday.",
        "They discussed the budget, e.g. salaries.",
    ]


def test_dotted_acronym_ends_a_sentence_only_before_a_sentence_opener() -> None:
    text = "Sales in the U.S. Midwest grew fast. Prices also rose in the U.S. The rest of the world lagged behind."
    assert sentences_of(text) == [
        "Sales in the U.S. Midwest grew fast.",
        "Prices also rose in the U.S.",
        "The rest of the world lagged behind.",
    ]


def test_initials_in_names_do_not_split() -> None:
    assert sentences_of("J. R. R. Tolkien wrote long books. Readers loved them a lot.") == [
        "J. R. R. Tolkien wrote long books.",
        "Readers loved them a lot.",
    ]


def test_decimals_and_urls_stay_inside_their_sentence() -> None:
    text = "Inflation was 3.5 percent last year. Read https://example.com/report.v2.pdf for the details."
    assert sentences_of(text) == [
        "Inflation was 3.5 percent last year.",
        "Read https://example.com/report.v2.pdf for the details.",
    ]


def test_question_and_exclamation_marks_end_sentences() -> None:
    assert sentences_of("Is growth sustainable? Nobody really knows! The data are too thin.") == [
        "Is growth sustainable?",
        "Nobody really knows!",
        "The data are too thin.",
    ]


def test_markdown_headings_code_tables_and_rules_are_not_sentences() -> None:
    text = (
        "# Heading about solar power\n\nThe first paragraph has one sentence.\n\n"
        "```python\nprint('code is not prose at all')\n```\n\n| col a | col b |\n|---|---|\n\n---\n\n"
        "Setext heading text here\n==========\n\nThe last paragraph closes the text."
    )
    assert sentences_of(text) == ["The first paragraph has one sentence.", "The last paragraph closes the text."]


def test_each_bullet_is_its_own_sentence_without_its_marker() -> None:
    text = "Key points:\n\n- Solar prices fell sharply\n- Wind output rose in winter\n1. Storage doubled in a year"
    assert sentences_of(text) == [
        "Solar prices fell sharply",
        "Wind output rose in winter",
        "Storage doubled in a year",
    ]


def test_soft_wrapped_sentence_is_one_sentence_and_quotes_as_one_line() -> None:
    text = "The grid operator said the new line\nwould open next spring. Nobody doubted it."
    first = segment_sources([text])[0]
    assert first.text == "The grid operator said the new line\nwould open next spring."
    assert first.quote == "The grid operator said the new line would open next spring."


def test_spans_are_exact_slices_of_the_source() -> None:
    text = "  Intro text comes first here.\n\n- A bullet with [a link](https://x.org/a) inside it.\n"
    for start, end in segment_document(text):
        assert text[start:end].strip() == text[start:end]
    assert [s.text for s in segment_sources([text])][1] == "A bullet with [a link](https://x.org/a) inside it."


def test_links_become_their_text_and_bare_urls_their_host() -> None:
    cleaned = clean_markdown("See **the [IEA report](https://iea.org/r.pdf)** or https://www.example.com/page now.")
    assert cleaned == "See the IEA report or example.com now."


def test_fragments_are_dropped_and_run_on_text_is_cut() -> None:
    run_on = " ".join(f"word{index}," for index in range(150))
    sentences = segment_sources([f"Read more\n\n{run_on}"])
    assert all(sentence.words <= 60 for sentence in sentences)
    assert " ".join(sentence.text for sentence in sentences) == run_on
    assert sentences[0].text.startswith("word0,")


def test_sentences_are_numbered_across_sources_and_keep_their_source() -> None:
    sentences = segment_sources(["One sentence is here. Two sentences are here.", "A third sentence is here."])
    assert [(s.index, s.source_index) for s in sentences] == [(0, 0), (1, 0), (2, 1)]


def test_content_words_skip_stopwords_numbers_and_short_words() -> None:
    assert content_words("The 3 new solar farms in Kenya are large.") == ["solar", "farms", "kenya", "large"]


_MARKDOWNISH = st.text(
    alphabet=st.sampled_from(list("abcXYZ .!?,;:-*#>`[]()/\n0123456789U.S%$\"'")), max_size=400
)


@settings(max_examples=300, deadline=None)
@given(_MARKDOWNISH)
def test_any_text_segments_into_ordered_exact_slices(text: str) -> None:
    sentences = segment_sources([text])
    previous_end = 0
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.start >= previous_end
        assert sentence.clean and sentence.words >= 3
        assert "\n" not in sentence.quote
        previous_end = sentence.end
