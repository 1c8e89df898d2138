"""How good the local engine's report is, on 24 hand-annotated articles (tests/data/articles/).

Run: ``.venv/bin/python benchmarks/report_quality.py`` (``--depth standard`` is the default).
``--save-baseline`` writes the figures to ``benchmarks/report_quality_baseline.json`` with the
commit they were measured at; every later run prints that baseline beside the current figures.

Each article is analysed alone by the real :class:`~core.engine.local.LocalEngine` (the packaged
all-MiniLM-L6-v2 embedder behind a :class:`~core.gate.WorkerGate`), and the report is scored
against ``tests/data/articles/annotations.json``:

* **lede in summary**: the hand-marked lede (whitespace-normalised) is inside the summary;
  **lede first**: the summary starts with the sentence that holds it.  Articles without a lede
  (chat, forum, notes) are left out of both.
* **key facts covered**: a fact ("sixth mass bleaching event") is covered when one sentence of the
  summary, or one key insight, contains every key word of the fact (its words minus "the", "a",
  "of", "in", ...).  A word matches a word of the sentence when they are equal or, for words of 4
  letters or more that are not numbers, one starts with the other ("reef" / "reefs").
* **entity precision / recall**: names compared lower-cased, without a leading "the", with
  "percent" / "per cent" written "%" and space runs collapsed; an expected entity may list aliases
  ("Fonseca" for "Maria Fonseca").  Precision is over the entities the report lists, recall over
  the expected ones, both micro-averaged.  **entity type accuracy** is the share of matched
  entities whose label is the expected type.
* **patterns with >= 2 evidence**: share of all listed patterns quoting at least two sentences;
  **patterns per article**: how many the report lists.

The articles are split in two: odd-numbered ones were looked at while tuning the engine ("tune"),
even-numbered ones were not ("holdout"); each figure is printed for both halves and for all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.embedder import SentenceTransformerEmbedder
from core.engine.local import LocalEngine
from core.engine.text import segment_sources
from core.gate import WorkerGate
from core.models import IntelReport, SourceDocument
from core.settings import Depth, default_embedding_model_path

__all__ = [
    "ARTICLES_DIR",
    "ArticleAnnotation",
    "QualityFigures",
    "analyse_articles",
    "fact_covered",
    "load_annotations",
    "score_reports",
]

ROOT = Path(__file__).resolve().parents[1]
ARTICLES_DIR = ROOT / "tests" / "data" / "articles"
BASELINE_PATH = Path(__file__).with_name("report_quality_baseline.json")

_TOKEN_RE = re.compile(r"\d[\d,.]*\d|\d|\w+(?:[-'’]\w+)*")
_FACT_STOPWORDS = frozenset("the a an of in on to by and for at is was be per with from".split())
_PERCENT_RE = re.compile(r"\s*(?:percent|per cent)\b|\s+%")
_MIN_PREFIX = 4


class ExpectedEntity(BaseModel):
    text: str
    type: str
    aliases: list[str] = []


class ArticleAnnotation(BaseModel):
    name: str
    split: str
    kind: str
    lede: str | None
    key_facts: list[str]
    entities: list[ExpectedEntity]

    @property
    def text(self) -> str:
        return (ARTICLES_DIR / self.name).read_text(encoding="utf-8")


class QualityFigures(BaseModel):
    """The figures of one group of articles, each in [0, 1] except the pattern count."""

    articles: int
    lede_in_summary: float
    lede_first: float
    key_facts_covered: float
    entity_precision: float
    entity_recall: float
    entity_type_accuracy: float
    patterns_two_evidence: float
    patterns_per_article: float


def load_annotations() -> list[ArticleAnnotation]:
    data = json.loads((ARTICLES_DIR / "annotations.json").read_text(encoding="utf-8"))
    return [ArticleAnnotation(name=name, **fields) for name, fields in sorted(data["articles"].items())]


async def analyse_articles(
    engine: LocalEngine, articles: Sequence[ArticleAnnotation], *, depth: Depth
) -> list[IntelReport]:
    """One report per article, each analysed on its own, in order."""
    return [
        await engine.analyse([SourceDocument(text=article.text, filename=article.name)], depth=depth)
        for article in articles
    ]


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    return [token.lower() for token in _TOKEN_RE.findall(text)]


def _word_matches(fact_word: str, word: str) -> bool:
    if fact_word == word:
        return True
    if fact_word[0].isdigit() or word[0].isdigit():
        return False
    short, long = sorted((fact_word, word), key=len)
    return len(short) >= _MIN_PREFIX and long.startswith(short)


def fact_covered(fact: str, sentences: Iterable[str]) -> bool:
    """True when one sentence contains every key word of ``fact`` (see the module docstring)."""
    wanted = [word for word in _tokens(fact) if word not in _FACT_STOPWORDS]
    for sentence in sentences:
        words = _tokens(sentence)
        if all(any(_word_matches(fact_word, word) for word in words) for fact_word in wanted):
            return True
    return False


def _entity_key(name: str) -> str:
    key = _PERCENT_RE.sub("%", _normalised(name).replace("’", "'")).lower()
    key = re.sub(r"^the\s+", "", key)
    return re.sub(r"'s$", "", key)


class _Counts:
    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}

    def add(self, key: str, numerator: float, denominator: float = 1.0) -> None:
        pair = self.values.setdefault(key, [0.0, 0.0])
        pair[0] += numerator
        pair[1] += denominator

    def ratio(self, key: str) -> float:
        numerator, denominator = self.values.get(key, [0.0, 0.0])
        return numerator / denominator if denominator else 0.0


def _score_one(article: ArticleAnnotation, report: IntelReport, counts: _Counts) -> None:
    summary = _normalised(report.summary)
    if article.lede:
        lede = _normalised(article.lede)
        counts.add("lede_in_summary", lede in summary)
        first = segment_sources([summary])[0].clean if summary else ""
        counts.add("lede_first", lede in first)
    units = [sentence.clean for sentence in segment_sources([summary])] if summary else []
    units += [insight.insight for insight in report.key_insights]
    for fact in article.key_facts:
        counts.add("key_facts_covered", fact_covered(fact, units))
    expected = {
        _entity_key(name): entity for entity in article.entities for name in (entity.text, *entity.aliases)
    }
    found: set[str] = set()
    for entity in report.entities:
        match = expected.get(_entity_key(entity.name))
        counts.add("entity_precision", match is not None)
        if match is not None:
            counts.add("entity_type_accuracy", entity.label == match.type)
            found.add(match.text)
    counts.add("entity_recall", len(found), len(article.entities))
    for pattern in report.patterns:
        counts.add("patterns_two_evidence", len(pattern.evidence) >= 2)
    counts.add("patterns_per_article", len(report.patterns))


def score_reports(articles: Sequence[ArticleAnnotation], reports: Sequence[IntelReport]) -> QualityFigures:
    """The figures over ``articles`` and their reports (same order)."""
    counts = _Counts()
    for article, report in zip(articles, reports, strict=True):
        _score_one(article, report, counts)
    figures = {key: round(counts.ratio(key), 3) for key in QualityFigures.model_fields if key != "articles"}
    figures["patterns_per_article"] = round(counts.ratio("patterns_per_article") * 1, 2)
    return QualityFigures(articles=len(articles), **figures)


def _figures_by_split(
    articles: Sequence[ArticleAnnotation], reports: Sequence[IntelReport]
) -> dict[str, QualityFigures]:
    by_split = {}
    for split in ("tune", "holdout", "all"):
        chosen = [i for i, article in enumerate(articles) if split in ("all", article.split)]
        by_split[split] = score_reports([articles[i] for i in chosen], [reports[i] for i in chosen])
    return by_split


_ROWS = (
    ("lede in summary", "lede_in_summary", True),
    ("lede first in summary", "lede_first", True),
    ("key facts covered (summary + insights)", "key_facts_covered", True),
    ("entity precision", "entity_precision", True),
    ("entity recall", "entity_recall", True),
    ("entity type accuracy (matched)", "entity_type_accuracy", True),
    ("patterns with >= 2 evidence sentences", "patterns_two_evidence", True),
    ("patterns per article", "patterns_per_article", False),
)


def _cell(figures: QualityFigures | None, key: str, percent: bool) -> str:
    if figures is None:
        return "-"
    value = getattr(figures, key)
    return f"{value * 100:.0f} %" if percent else f"{value:.1f}"


def print_table(current: dict[str, QualityFigures], baseline: dict[str, QualityFigures] | None) -> None:
    """Baseline and current figures side by side, per split, as a Markdown table."""
    splits = ("tune", "holdout", "all")
    header = ["figure"] + [f"before {s}" for s in splits] + [f"now {s}" for s in splits]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for title, key, percent in _ROWS:
        before = [_cell(baseline[s] if baseline else None, key, percent) for s in splits]
        now = [_cell(current[s], key, percent) for s in splits]
        print("| " + " | ".join([title, *before, *now]) + " |")
    counts = ", ".join(f"{s} {current[s].articles}" for s in splits)
    print(f"\narticles: {counts}")


def _commit() -> str:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


def _load_baseline() -> tuple[dict[str, QualityFigures] | None, str]:
    if not BASELINE_PATH.exists():
        return None, ""
    data = json.loads(BASELINE_PATH.read_text(encoding="utf-8"))
    figures = {split: QualityFigures(**values) for split, values in data["figures"].items()}
    return figures, f"{data['commit'][:10]} ({data['note']})"


async def _run(depth: Depth) -> dict[str, QualityFigures]:
    embedder = SentenceTransformerEmbedder(default_embedding_model_path(), batch_size=64, torch_threads=2)
    embedder.load()
    articles = load_annotations()
    async with WorkerGate(max_workers=2) as gate:
        reports = await analyse_articles(LocalEngine(embedder=embedder, gate=gate), articles, depth=depth)
    return _figures_by_split(articles, reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--depth", default="standard", choices=["quick", "standard", "deep"])
    parser.add_argument("--save-baseline", metavar="NOTE", help="save these figures as the baseline")
    options = parser.parse_args()
    current = asyncio.run(_run(options.depth))
    if options.save_baseline:
        BASELINE_PATH.write_text(
            json.dumps(
                {"commit": _commit(), "note": options.save_baseline, "depth": options.depth,
                 "figures": {split: figures.model_dump() for split, figures in current.items()}},
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    baseline, described = _load_baseline()
    print(f"local engine report quality, depth {options.depth}; before = {described or 'no baseline saved'}\n")
    print_table(current, baseline)


if __name__ == "__main__":
    main()
