"""Write the seed questions the language-model teacher paraphrased (``training/data/teacher/``).

    .venv/bin/python training/teacher_seeds.py --out /tmp/seeds

Ten files of 150 questions each (``seeds0.txt`` .. ``seeds9.txt``), drawn with a fixed seed from the
QQP *train* split only (``training/qqp_splits.py``): questions of 5-18 words ending in "?", ASCII,
without links, dollar signs or LaTeX.  The teacher wrote ``qqp0.jsonl`` .. ``qqp5.jsonl`` from the
first six with the instructions in ``training/data/teacher/PROMPT.md``, and ``scope_qqp6.jsonl``,
``scope_qqp7.jsonl`` from the next two with ``PROMPT_SCOPE.md``; ``seeds8`` and ``seeds9`` are not
used yet.  The ``bot*.jsonl`` files come from seeds the teacher invented itself.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.qqp_splits import load_splits

FILES, PER_FILE, SEED = 10, 150, 77
_UNWANTED = re.compile(r"http|\$|\\|\[math")


def seed_questions() -> list[list[str]]:
    questions = sorted({text for pair in load_splits().train for text in (pair.a, pair.b)})
    random.Random(SEED).shuffle(questions)
    usable = [question for question in questions
              if 5 <= len(question.split()) <= 18 and question.endswith("?") and question.isascii()
              and not _UNWANTED.search(question)]
    return [usable[index * PER_FILE : (index + 1) * PER_FILE] for index in range(FILES)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for index, questions in enumerate(seed_questions()):
        (args.out / f"seeds{index}.txt").write_text("\n".join(questions) + "\n")
    print(f"wrote {FILES} files of {PER_FILE} seed questions to {args.out}")


if __name__ == "__main__":
    main()
