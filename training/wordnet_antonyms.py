"""Write ``core/cache/data/antonyms.txt``: WordNet 3.0's direct antonyms, with their inflected forms.

    apt-get install wordnet-base   # Debian: the WordNet 3.0 database in /usr/share/wordnet
    .venv/bin/python training/wordnet_antonyms.py

The cache's contrast veto (``core.cache.pair_text.is_contrast``) refuses two requests that differ in
one place where one word is the other's antonym.  Its hand-written table covers the pairs seen in
requests; this file adds every single-word antonym pair WordNet records (the ``!`` pointers of
``data.adj``, ``data.verb``, ``data.noun``, ``data.adv``), each with its inflected forms: the
irregular ones from WordNet's exception lists (``rose`` -> ``rise``) and the regular ones by
rule (verbs -s / -ed / -ing, nouns -s).  Generated once and committed, so the bot does not need
WordNet installed; WordNet's licence (below) allows redistribution with its notice.
"""

from __future__ import annotations

import argparse
import itertools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTICE = """\
# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR
# WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON UNIVERSITY MAKES NO
# REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE
# OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS,
# COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS. The name of Princeton University or Princeton may not be used
# in advertising or publicity pertaining to distribution of the software and/or database. Title to
# copyright in this software, database and any associated documentation shall at all times remain
# with Princeton University and LICENSEE agrees to preserve same.
"""
POS = {"adj": "data.adj", "verb": "data.verb", "noun": "data.noun", "adv": "data.adv"}
_WORD = re.compile(r"^[a-z]{3,}$")
#: Left out: the pair holds in one sense, and the other sense is common in requests.
SKIP = frozenset({frozenset(pair) for pair in (("present", "absent"), ("even", "odd"), ("light", "heavy"),
                                               ("sharp", "flat"), ("like", "unlike"), ("long", "short"))})


def synsets(path: Path) -> dict[str, tuple[list[str], list[tuple[str, int]]]]:
    """offset -> (words, antonym pointers as (target offset, target word number))."""
    found = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue  # the licence header
        fields = line.split(" | ")[0].split()
        offset, count = fields[0], int(fields[3], 16)
        words = [fields[4 + 2 * index].split("(")[0].lower() for index in range(count)]
        position = 4 + 2 * count
        pointers = []
        for index in range(int(fields[position])):
            symbol, target, _, source_target = fields[position + 1 + 4 * index : position + 5 + 4 * index]
            if symbol == "!":
                pointers.append((target, source_target))
        found[offset] = (words, pointers)
    return found


def antonym_pairs(folder: Path) -> dict[str, set[frozenset[str]]]:
    pairs: dict[str, set[frozenset[str]]] = {}
    for pos, name in POS.items():
        table = synsets(folder / name)
        found = pairs.setdefault(pos, set())
        for words, pointers in table.values():
            for target, source_target in pointers:
                source, goal = int(source_target[:2], 16), int(source_target[2:], 16)
                first = words[source - 1]
                second = table[target][0][goal - 1]
                if first != second and _WORD.match(first) and _WORD.match(second) and frozenset((first, second)) not in SKIP:
                    found.add(frozenset((first, second)))
    return pairs


def exceptions(folder: Path, pos: str) -> dict[str, list[str]]:
    """base form -> its irregular forms (``rise`` -> ``rose``, ``risen``)."""
    forms: dict[str, list[str]] = {}
    path = folder / f"{pos}.exc"
    if path.exists():
        for line in path.read_text(encoding="latin-1").splitlines():
            inflected, *bases = line.split()
            for base in bases:
                forms.setdefault(base, []).append(inflected)
    return forms


def inflections(word: str, pos: str, irregular: dict[str, list[str]]) -> list[list[str]]:
    """The word's forms by slot, so that only forms of one slot are paired ("rose" with "fell", not
    with "falling"): verbs base / -s / past / -ing, nouns singular / plural, others the word."""
    if pos == "verb":
        stem = word[:-1] if word.endswith("e") else word
        third = word + ("es" if word.endswith(("s", "sh", "ch", "x", "z")) else "s")
        slots = [[word], [third], [stem + "ed"], [stem + "ing"]]
        odd = irregular.get(word, [])
        if odd:  # the exception list replaces the regular forms it covers
            slots[2] = [form for form in odd if not form.endswith(("ing", "s"))] or slots[2]
            slots[3] = [form for form in odd if form.endswith("ing")] or slots[3]
            slots[1] = [form for form in odd if form.endswith("s")] or slots[1]
        return slots
    if pos == "noun":
        plural = irregular.get(word) or [word + ("es" if word.endswith(("s", "sh", "ch", "x", "z")) else "s")]
        return [[word], plural]
    return [[word, *irregular.get(word, [])]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--out", type=Path, default=ROOT / "core" / "cache" / "data" / "antonyms.txt")
    args = parser.parse_args()
    lines: set[str] = set()
    for pos, pairs in antonym_pairs(args.wordnet).items():
        irregular = exceptions(args.wordnet, pos)
        for pair in pairs:
            first, second = sorted(pair)
            for slot_a, slot_b in zip(inflections(first, pos, irregular), inflections(second, pos, irregular),
                                      strict=True):
                for a, b in itertools.product(slot_a, slot_b):
                    if a != b:
                        lines.add(" ".join(sorted((a, b))))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Antonym pairs for the cache's contrast veto, generated by training/wordnet_antonyms.py from\n"
              "# WordNet 3.0 (Princeton University, https://wordnet.princeton.edu/); one pair per line.\n" + NOTICE)
    args.out.write_text(header + "\n".join(sorted(lines)) + "\n")
    print(f"wrote {len(lines)} pairs to {args.out}")


if __name__ == "__main__":
    main()
