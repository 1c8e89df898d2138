"""Sentence segmentation and word tokens for the local engine.

:func:`segment_sources` turns source texts into :class:`Sentence` spans.  It reads Markdown the
way a person does: headings, code blocks, tables, rules and HTML lines are not prose and are
skipped; each bullet, and each time-stamped chat line, is its own block; soft-wrapped lines join
their paragraph.  Inside a block it splits at ``.``, ``!`` and ``?`` followed by a capitalised word or a digit, except after titles
("Dr."), initials ("J."), and common abbreviations ("e.g.", "approx."); after dotted acronyms
("U.S.", "Inc.") it splits only when the next word is a usual sentence opener ("The", "It", ...).
Decimals ("3.5") and URLs never split because the full stop is not followed by a space.

Every sentence keeps its verbatim span (``text``, a slice of the source) so quotes are exact, and a
``clean`` form (link targets, URLs and emphasis removed, whitespace collapsed) that is embedded
and shown.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "CHAT_STAMP_RE",
    "STOPWORDS",
    "Sentence",
    "clean_markdown",
    "content_word_set",
    "content_words",
    "segment_document",
    "segment_sources",
    "word_count",
]

#: Spans with fewer word tokens than this are fragments ("Figure 1", "Read more"), not sentences.
MIN_SENTENCE_WORDS = 3
#: Longer spans (run-on text without punctuation) are cut so embeddings and quotes stay readable.
MAX_SENTENCE_WORDS = 60

_WORD_RE = re.compile(r"\w+")
_CONTENT_WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# --- Markdown blocks --------------------------------------------------------------------------
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_UNDERLINE_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE_RE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_TABLE_RE = re.compile(r"^\s*\|.*\|\s*$")
_HTML_LINE_RE = re.compile(r"^\s*</?[A-Za-z][^>]*>\s*$")
_BULLET_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_QUOTE_MARK_RE = re.compile(r"^\s*(?:>\s?)+")
#: A chat export's time stamp ("[09:02] priya: ...", "09:02 - priya: ..."): each such line is one message.
CHAT_STAMP_RE = re.compile(
    r"^\s*(?:\[\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?\]|\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?\s*[-–]?)"
    r"\s*(?=<?[\w.@-]+>?:?\s)"
)

# --- Sentence boundaries ----------------------------------------------------------------------
_BOUNDARY_RE = re.compile(r"""(?:\.{3}|…|[.!?]+)["'”’)\]]*(?=\s+["'“‘(\[*_]*[A-Z0-9])""")
_LAST_TOKEN_RE = re.compile(r"([^\s(\[\"'“‘]+)$")
_NEXT_WORD_RE = re.compile(r"\s+[\"'“‘(\[*_]*([A-Za-z]+)")
_TITLES = frozenset(
    "mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon pres supt".split()
)
_NEVER_ENDS = frozenset("e.g i.e cf vs approx fig figs no nos vol pp ch sec art ed eds ca est ref refs".split())
_ACRONYM_LIKE = frozenset(
    "inc ltd co corp llc plc bros etc al a.m p.m "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_DOTTED_ACRONYM_RE = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
_SENTENCE_OPENERS = frozenset(
    """the a an this that these those it its in on at for but however and or so yet we they he she i
    there here some many most all no one our their his her as after before when while if although
    since because by from with to what who why how where which after during despite meanwhile
    still then today now last next new other such both each every more""".split()
)

# --- Cleaning ---------------------------------------------------------------------------------
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK_RE = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_FOOTNOTE_RE = re.compile(r"\[\^?\d+\]")
_AUTOLINK_RE = re.compile(r"<(?:https?|ftp|mailto):[^>\s]+>")
_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"”’]")
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][^>]*>")
_STRONG_RE = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS_RE = re.compile(r"(?<![\w*])([*_])(?=\S)([^*_]+?)(?<=\S)\1(?![\w*])")
_LINE_MARK_RE = re.compile(r"\n\s*(?:>\s?)*")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([.,;:!?])")

STOPWORDS = frozenset(
    """a about above according across actually after again against ago all almost along already also
    although always am among an and another any anyone anything are around as at be became because
    become becomes been before began being below best better between beyond both but by can cannot
    could did do does doing done down due during each either else enough even ever every few first
    for from further get gets getting given go goes going got had has have having he her here hers
    herself him himself his how however i if in including instead into is it its itself just last
    least less let like likely made make makes making many may maybe me might more most much must my
    myself near nearly need needs neither never next no nor not now of off often on once one only
    onto or other others otherwise our ours ourselves out over own part per perhaps put rather really
    same say said says see seen seem seems several shall she should show shows shown since so some
    something still such take taken than that the their theirs them themselves then there these they
    thing things this those though three through thus to together too toward towards two under
    unless until up upon us use used uses using very via want was way ways we well were what whatever
    when where whereas whether which while who whole whom whose why will with within without would
    yet you your yours yourself also around based came come comes found including kind lot lots mr
    mrs ms dr new year years today time times percent cent million billion thousand hundred
    week weeks month months day days people number numbers report reported per cent etc""".split()
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of one source: where it is, its exact text and its cleaned text."""

    index: int
    source_index: int
    start: int
    end: int
    text: str
    clean: str

    @property
    def quote(self) -> str:
        """The verbatim text with line breaks inside the sentence turned into single spaces."""
        return " ".join(_LINE_MARK_RE.sub(" ", self.text).split())

    @property
    def words(self) -> int:
        return word_count(self.clean)


def word_count(text: str) -> int:
    return len(_WORD_RE.findall(text))


def content_words(text: str) -> list[str]:
    """Lower-cased words of three letters or more that are not stopwords, in order ("valley's" -> "valley")."""
    words = (
        match.group().lower().replace("’", "'").removesuffix("'s")
        for match in _CONTENT_WORD_RE.finditer(text)
    )
    return [word for word in words if len(word) >= 3 and word not in STOPWORDS]


@functools.lru_cache(maxsize=8192)
def content_word_set(text: str) -> frozenset[str]:
    """:func:`content_words` as a set, remembered: pattern evidence compares every sentence's words
    once per pattern (8,000 calls for a 5,000-word text, 40 % of its analysis without the model)."""
    return frozenset(content_words(text))


def clean_markdown(text: str) -> str:
    """The readable text of a Markdown span: link texts kept, targets, URLs and emphasis removed."""
    text = _IMAGE_RE.sub(r"\1", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _REF_LINK_RE.sub(r"\1", text)
    text = _FOOTNOTE_RE.sub("", text)
    text = _AUTOLINK_RE.sub("", text)
    text = _URL_RE.sub(_url_host, text)
    text = _HTML_TAG_RE.sub("", text)
    text = _STRONG_RE.sub(r"\2", text)
    text = _EMPHASIS_RE.sub(r"\2", text)
    text = _LINE_MARK_RE.sub(" ", text).replace("`", "")
    text = " ".join(text.split())
    return _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text).strip(" -–—:;,")


def _url_host(match: re.Match[str]) -> str:
    """A bare URL reads as its host name: "https://www.iea.org/x" becomes "iea.org"."""
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", match.group()).split("/", 1)[0]
    return host.split("?", 1)[0]


def segment_sources(texts: Sequence[str]) -> list[Sentence]:
    """Sentences of every source, numbered across all of them, each knowing its source index."""
    sentences: list[Sentence] = []
    for source_index, text in enumerate(texts):
        for start, end, clean in _sentence_spans(text):
            sentences.append(Sentence(len(sentences), source_index, start, end, text[start:end], clean))
    return sentences


def segment_document(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the prose sentences in ``text``, in order."""
    return [(start, end) for start, end, _ in _sentence_spans(text)]


def _sentence_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for block_start, block_end in _prose_blocks(text):
        for start, end in _split_block(text, block_start, block_end):
            for piece_start, piece_end in _cap_length(text, start, end):
                clean = clean_markdown(text[piece_start:piece_end])
                if word_count(clean) >= MIN_SENTENCE_WORDS:
                    yield piece_start, piece_end, clean


# --- Blocks -----------------------------------------------------------------------------------


def _lines(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.split("\n"):
        yield offset, line
        offset += len(line) + 1


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    lines: int = 1


def _line_kind(line: str, *, in_fence: bool) -> str:
    """One of fence, skip, underline, bullet, prose."""
    if _FENCE_RE.match(line):
        return "fence"
    if in_fence or not line.strip():
        return "skip"
    if _UNDERLINE_RE.match(line):
        return "underline"
    if _HEADING_RE.match(line) or _RULE_RE.match(line) or _TABLE_RE.match(line) or _HTML_LINE_RE.match(line):
        return "skip"
    return "bullet" if _BULLET_RE.match(line) or CHAT_STAMP_RE.match(line) else "prose"


def _prose_blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs and list items as ``(start, end)`` spans, markers excluded from the start."""
    blocks: list[tuple[int, int]] = []
    current: _Block | None = None
    in_fence = False
    for offset, line in _lines(text):
        kind = _line_kind(line, in_fence=in_fence)
        if kind == "fence":
            in_fence = not in_fence
        if kind == "underline" and current is not None and current.lines == 1:
            current = None  # a Setext heading: the single line above was its text
            continue
        if kind in ("fence", "skip", "underline"):
            _close(blocks, current)
            current = None
        elif kind == "bullet" or current is None:
            _close(blocks, current)
            marker = _BULLET_RE.match(line) or CHAT_STAMP_RE.match(line) or _QUOTE_MARK_RE.match(line)
            current = _Block(offset + (marker.end() if marker else 0), offset + len(line))
        else:
            current.end, current.lines = offset + len(line), current.lines + 1
    _close(blocks, current)
    return blocks


def _close(blocks: list[tuple[int, int]], block: _Block | None) -> None:
    """Append a finished block if it has any text."""
    if block is not None and block.end > block.start:
        blocks.append((block.start, block.end))


# --- Sentences inside a block -----------------------------------------------------------------


def _split_block(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    block = text[start:end]
    sentence_start = 0
    for match in _BOUNDARY_RE.finditer(block):
        if not _is_boundary(block, match):
            continue
        yield from _trimmed(text, start + sentence_start, start + match.end())
        sentence_start = match.end()
    yield from _trimmed(text, start + sentence_start, end)


def _is_boundary(block: str, match: re.Match[str]) -> bool:
    punctuation = match.group()
    if not punctuation.startswith(".") or punctuation.startswith("..."):
        return True
    before = _LAST_TOKEN_RE.search(block, 0, match.start())
    token = before.group(1) if before else ""
    lowered = token.lower().rstrip(".")
    next_word = _NEXT_WORD_RE.match(block, match.end())
    opener = next_word is not None and next_word.group(1).lower() in _SENTENCE_OPENERS
    if lowered in _TITLES or lowered in _NEVER_ENDS:
        return False
    if len(token) == 1 and token.isalpha() and token.isupper():
        return False  # an initial, as in "J. Smith"
    if lowered in _ACRONYM_LIKE or _DOTTED_ACRONYM_RE.match(token):
        return opener
    return True


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def _cap_length(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut a run-on span into pieces of at most 60 words, preferring a semicolon, then a comma."""
    words = list(re.finditer(r"\S+", text[start:end]))
    first = 0
    while len(words) - first > MAX_SENTENCE_WORDS:
        window = words[first + MAX_SENTENCE_WORDS // 2 : first + MAX_SENTENCE_WORDS]
        cut = next((index for index, word in enumerate(window) if word.group().endswith(";")), None)
        if cut is None:
            cut = next((index for index, word in enumerate(window) if word.group().endswith(",")), None)
        last = first + MAX_SENTENCE_WORDS // 2 + (cut if cut is not None else len(window) - 1)
        yield from _trimmed(text, start + words[first].start(), start + words[last].end())
        first = last + 1
    if first < len(words):
        yield from _trimmed(text, start + words[first].start(), end)
