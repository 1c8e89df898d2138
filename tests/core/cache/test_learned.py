"""The trained hit verifier (the shipped int8 ONNX cross-encoder) and the decision around it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.cache.decision import Candidate
from core.cache.keys import normalise_query
from core.cache.learned import LearnedDecider, number_values
from core.cache.pair_text import expand_contractions
from core.errors import ConfigError
from core.inference.cross_encoder import DEFAULT_VERIFIER_DIR, CrossEncoder


@pytest.fixture(scope="module")
def decider() -> LearnedDecider:
    loaded = LearnedDecider(CrossEncoder(DEFAULT_VERIFIER_DIR))
    loaded.warm_up()
    return loaded


def _candidate(text: str, similarity: float = 0.95, entry_id: int = 1) -> Candidate:
    return Candidate(entry_id=entry_id, text=text, similarity=similarity)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("Apple revenue in Q3 2024", "Apple revenue in the third quarter of 2024", True),
        ("the 2nd largest economy", "the second largest economy", True),
        ("a $5bn deal", "a 5 billion dollar deal", True),
        ("2,000 jobs", "2000 jobs", True),
        ("What is new in iPhone 15?", "What is new in iPhone 14?", False),
        ("Apple's revenue in 2023", "Apple's revenue in 2022", False),
        ("top 3 risks", "top 10 risks", False),
    ],
)
def test_number_values_agree_on_spellings_and_differ_on_values(first: str, second: str, same: bool) -> None:
    assert (number_values(first) == number_values(second)) is same


def test_roman_numerals_after_a_name_are_numbers() -> None:
    assert number_values("Who won Super Bowl LVIII?") == {"58"}
    assert number_values("Who won Super Bowl LVII?") == {"57"}
    assert number_values("Causes of World War II") == number_values("Causes of the second world war") == {"2"}
    assert number_values("I think X is good") == frozenset()  # one letter: a word or a name


def test_a_number_glued_to_a_word_is_not_read_from_its_middle() -> None:
    assert number_values("is the s&p500 at a high") == frozenset()  # once read "00", so vetoed "S&P 500"
    assert number_values("the 2nd of 300") == {"2", "300"}


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("Why isn't the US in the ICC?", "Why is not the US in the ICC?"),
        ("Won't Intel's stock recover?", "Will not Intel's stock recover?"),  # a noun's "'s" stays
        ("what's new, and why can't I update?", "what is new, and why cannot I update?"),
        ("They\u2019re late and we've left", "They are late and we have left"),
        ("I'd say it's fine", "I'd say it is fine"),  # "'d" is "had" or "would": left alone
    ],
)
def test_contractions_are_spelled_out_and_ambiguous_ones_kept(text: str, expanded: str) -> None:
    assert expand_contractions(text) == expanded


def test_a_contraction_scores_as_its_spelled_out_request(decider: LearnedDecider) -> None:
    contracted = decider.probabilities("Why isn't Python faster than C?", ["Why is not Python faster than C?"])
    spelled = decider.probabilities("Why is not Python faster than C?", ["Why is not Python faster than C?"])
    assert contracted[0] == pytest.approx(spelled[0])


def test_a_role_swap_is_vetoed_before_the_model(decider: LearnedDecider) -> None:
    swapped = decider.decide("Why did Coinbase fine the SEC?", [_candidate("Why did the SEC fine Coinbase?", 0.99)],
                             threshold=0.8, strictness="lenient")
    assert swapped.served is None and swapped.probability is None  # never scored


def test_a_passive_swap_is_a_role_swap_and_the_same_roles_passive_are_served(decider: LearnedDecider) -> None:
    swapped = decider.decide("Why did Coinbase fine the SEC?", [_candidate("Why was Coinbase fined by the SEC?")],
                             threshold=0.8, strictness="strict")
    same = decider.decide("Why did the SEC fine Coinbase?", [_candidate("Why was Coinbase fined by the SEC?")],
                          threshold=0.8, strictness="strict")
    assert swapped.served is None and swapped.probability is None  # vetoed: never scored
    assert same.served is not None


def test_a_reworded_request_scores_above_a_changed_one(decider: LearnedDecider) -> None:
    reworded = decider.probabilities("What is the fastest way to learn Python?", ["How do I learn Python quickly?"])
    changed = decider.probabilities("What is the fastest way to learn Python?", ["How do I uninstall Python quickly?"])
    assert reworded[0] - changed[0] > 0.2


def test_different_numbers_are_vetoed_before_the_model(decider: LearnedDecider) -> None:
    decision = decider.decide("What was Apple's revenue in 2023?", [_candidate("What was Apple's revenue in 2022?", 0.99)],
                              threshold=0.8)
    assert decision.served is None and decision.probability is None  # never scored


def test_candidates_under_the_cosine_floor_are_not_scored(decider: LearnedDecider) -> None:
    decision = decider.decide("How do I learn Rust?", [_candidate("How do I learn Python?", 0.79)], threshold=0.8)
    assert decision == decider.decide("x", [], threshold=0.8)


@pytest.mark.parametrize(
    ("query", "stored", "similarity"),
    [
        ("explain how blockchian works", "Explain how blockchain works", 0.41),  # the embedder's cosine for it
        ("How does the imune system fight viruses?", "How does the immune system fight viruses?", 0.73),
        ("What does the International Monetary Fund predict for growth?", "What does the IMF predict for growth?", 0.79),
        ("how did apple do in Q2", "How did Apple do in second quarter?", 0.77),
    ],
)
def test_a_request_spelled_another_way_is_served_under_the_floor(
    decider: LearnedDecider, query: str, stored: str, similarity: float
) -> None:
    nearer = _candidate("How do I bake bread?", similarity + 0.01, entry_id=7)
    decision = decider.decide(query, [nearer, _candidate(stored, similarity)], threshold=0.8, strictness="strict")
    assert decision.served is not None and decision.served.text == stored
    assert decision.probability == 1.0


def test_at_most_three_candidates_are_scored_besides_the_query_spelled_another_way(decider: LearnedDecider) -> None:
    texts = ["How do I learn Rust fast?", "How can I learn Rust quickly?", "Best way to learn Rust?",
             "How do I lern Go?", "Where can I learn Rust?"]
    candidates = [_candidate(text, 0.97 - 0.01 * position, position) for position, text in enumerate(texts)]
    eligible = decider.eligible("How do I learn Go?", candidates, floor=0.8, excluded=())
    # the first three are scored, the typo is the query itself; the fifth is never scored
    assert [candidate.entry_id for candidate in eligible] == [0, 1, 2, 3]


def test_under_the_floor_a_request_with_one_other_word_is_not_served(decider: LearnedDecider) -> None:
    for query, stored in (("explain how bitcoin works", "Explain how blockchain works"),
                          ("How does the immune system fight bacteria?", "How does the immune system fight viruses?")):
        decision = decider.decide(query, [_candidate(stored, 0.7)], threshold=0.8)
        assert decision.served is None and decision.probability is None


def test_a_request_spelled_another_way_is_not_served_when_marked_wrong(decider: LearnedDecider) -> None:
    stored = "Explain how blockchain works"
    decision = decider.decide("explain how blockchian works", [_candidate(stored, 0.41)], threshold=0.8,
                              excluded={normalise_query(stored)})
    assert decision.served is None


def test_an_excluded_stored_text_is_skipped_for_the_next_candidate(decider: LearnedDecider) -> None:
    candidates = [_candidate("How can I learn Python fast?", 0.97, 1), _candidate("How do I learn Python quickly?", 0.96, 2)]
    excluded = {normalise_query("How can I learn Python fast?")}
    decision = decider.decide("how do i learn python quickly", candidates, threshold=0.8, excluded=excluded)
    assert decision.served is not None and decision.served.entry_id == 2


def test_strict_serves_no_more_than_lenient(decider: LearnedDecider) -> None:
    thresholds = decider.model.manifest.thresholds
    assert thresholds["lenient"] <= thresholds["balanced"] <= thresholds["strict"]
    assert decider.model.manifest.judge_floor <= thresholds["lenient"]


def test_a_borderline_candidate_is_reported_for_the_judge(decider: LearnedDecider) -> None:
    manifest = decider.model.manifest
    pairs = [("What are the risks of nuclear power?", "What are the dangers of nuclear energy?"),
             ("Best laptop for students", "Which laptop should a student buy?"),
             ("How does inflation affect savings?", "What does inflation do to my savings?"),
             ("Is coffee bad for you?", "Is drinking coffee unhealthy?")]
    for query, stored in pairs:
        decision = decider.decide(query, [_candidate(stored)], threshold=0.8, strictness="strict")
        assert decision.probability is not None
        in_band = manifest.judge_floor <= decision.probability < manifest.thresholds["strict"]
        assert (decision.borderline is not None) is in_band
        assert decision.served is None or decision.borderline is None


def test_damaged_weights_are_refused_at_load(tmp_path: Path) -> None:
    copy = tmp_path / "verifier"
    shutil.copytree(DEFAULT_VERIFIER_DIR, copy)
    weights = copy / "model.onnx.gz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match=r"VERIFIER_MODEL.*damaged"):
        CrossEncoder(copy).load()


def test_a_model_without_calibrated_levels_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "verifier"
    shutil.copytree(DEFAULT_VERIFIER_DIR, copy)
    manifest = json.loads((copy / "verifier.json").read_text())
    manifest["thresholds"] = {"balanced": 0.9}
    (copy / "verifier.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="lenient, strict"):
        LearnedDecider(CrossEncoder(copy)).warm_up()
