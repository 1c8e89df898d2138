"""Theme clustering and keywords on real embeddings of texts written for these tests."""

from __future__ import annotations

import numpy as np

from core.embedder import Embedder
from core.engine.text import segment_sources
from core.engine.themes import build_themes, cluster_sentences, key_phrases, theme_keywords, theme_label
from tests.core.engine.conftest import sample_text


def test_number_of_themes_comes_from_the_text(embedder: Embedder) -> None:
    sentences = segment_sources([sample_text("two_topics")])
    embeddings = embedder.embed([sentence.clean for sentence in sentences])

    labels = cluster_sentences(embeddings, max_themes=10)

    assert labels.tolist() == [0] * 8 + [1] * 8


def test_short_texts_get_a_single_theme(embedder: Embedder) -> None:
    embeddings = embedder.embed(["Coffee grows on hills.", "Batteries store energy.", "Rain fell all day."])
    assert cluster_sentences(embeddings, max_themes=6).tolist() == [0, 0, 0]


def test_keywords_favour_words_particular_to_a_theme() -> None:
    sentences = segment_sources([
        "Coffee prices rose for farmers. Farmers sold coffee beans to traders. The coffee harvest was late. "
        "Battery prices fell for drivers. Drivers charged the battery at night. The battery pack was heavy."
    ])
    keywords = theme_keywords(sentences, np.array([0, 0, 0, 1, 1, 1]), themes=2, limit=3)

    assert keywords[0][0] == "coffee" and "farmers" in keywords[0]
    assert keywords[1][0] == "battery" and "drivers" in keywords[1]
    assert not any(word.startswith("price") for word in keywords[0] + keywords[1])  # in both themes


def test_theme_state_has_coherence_and_a_representative(embedder: Embedder) -> None:
    sentences = segment_sources([sample_text("two_topics")])
    embeddings = embedder.embed([sentence.clean for sentence in sentences])
    labels = cluster_sentences(embeddings, max_themes=6)

    themes = build_themes(sentences, embeddings, labels, keyword_limit=6)

    assert [theme.size for theme in themes] == [8, 8]
    assert all(theme.representative in theme.members for theme in themes)
    assert all(0.0 < theme.coherence < 1.0 for theme in themes)
    assert "coffee" in sentences[themes[0].representative].clean.lower()


def test_label_is_the_best_key_phrase_or_else_the_top_keyword() -> None:
    assert theme_label(["mass bleaching", "sea temperatures"], ["bleaching"]) == "Mass bleaching"
    assert theme_label([], ["battery", "charger"]) == "Battery"
    assert theme_label([]) == "General"


def test_key_phrase_is_a_recurring_run_of_content_words_not_keywords_joined_with_and() -> None:
    sentences = segment_sources([
        "The reef suffered a mass bleaching event in March. Divers saw mass bleaching on the outer reef. "
        "Mass bleaching follows marine heat waves. "
        "Battery prices fell for drivers. Drivers charged the battery pack at night. The battery pack was heavy."
    ])
    labels = np.array([0, 0, 0, 1, 1, 1])
    keywords = theme_keywords(sentences, labels, themes=2, limit=5)
    weights = [{word: 1.0 for word in theme} for theme in keywords]

    phrases = key_phrases(sentences, labels, weights=weights, keywords=keywords)

    assert phrases[0][0].lower() == "mass bleaching"
    assert phrases[1][0].lower() == "battery pack"
    assert not any(" and " in phrase for phrase in phrases[0] + phrases[1])


def test_long_text_gets_the_depth_floor_of_themes(embedder: Embedder) -> None:
    sentences = segment_sources([sample_text("energy_article"), sample_text("two_topics")])
    embeddings = embedder.embed([sentence.clean for sentence in sentences])
    assert len(sentences) >= 40

    unfloored = cluster_sentences(embeddings, max_themes=10)
    floored = cluster_sentences(embeddings, max_themes=10, min_themes=4)

    assert int(floored.max()) + 1 >= 4
    assert int(floored.max()) >= int(unfloored.max())
