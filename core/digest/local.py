"""The local digest engine: topics, decisions, open questions and links from chat, on this machine.

:func:`digest_messages` is blocking (it embeds every message): :class:`LocalDigester` runs it whole
through the worker gate.  How each part is found:

* **topics**: messages of at least :data:`TOPIC_MIN_WORDS` content words are embedded with the
  bot's embedder and clustered by :func:`core.engine.themes.cluster_sentences` (spherical k-means,
  ``k`` by silhouette); each cluster is labelled by its key phrase, summed up by its most central
  message, and its drivers are the authors who wrote most of it;
* **decisions**: messages in the words people use to settle something ("we decided", "let's go
  with", "agreed", "approved", ...), never a question;
* **open questions**: questions nobody answered: no reply points at them and none of the next few
  messages by someone else is close to them in meaning;
* **links**: every URL shared, once, with the line its message gave it (or who shared it).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.digest.models import ChatMessage, Digest, DigestItem, DigestLink, DigestTopic
from core.embedder import Embedder
from core.engine.rank import one_line
from core.engine.text import Sentence, clean_markdown, content_words
from core.engine.themes import build_themes, cluster_sentences
from core.gate import WorkerGate

__all__ = ["DigestLimits", "LocalDigester", "digest_messages", "find_urls_in", "usable_messages"]

_log = logging.getLogger(__name__)

TOPIC_MIN_WORDS = 3
#: Messages with fewer content words ("ok", "lol +1") are not embedded: no topic or question uses them.
EMBED_MIN_WORDS = 2
MAX_EMBED_CHARS = 300
#: Longer chats are clustered on this many evenly spaced messages; the rest join the nearest topic.
CLUSTER_SAMPLE = 2_000
LINE_CHARS = 160
#: How many later messages by others may answer a question, and how close in meaning they must be.
ANSWER_WINDOW = 4
ANSWER_SIMILARITY = 0.45

_URL_RE = re.compile(r"https?://[^\s<>()\"'`]+", re.IGNORECASE)
_DECISION_RE = re.compile(
    r"\b(?:we(?:'ve| have)? (?:decided|agreed)|decided to|decision(?: is)?:|let'?s go with|"
    r"we(?:'ll| will| are) go(?:ing)? with|going with|agreed on|settled on|approved|final call|"
    r"consensus is|we(?:'ll| will) ship)\b",
    re.IGNORECASE,
)
_SPOILER_OR_CODE_RE = re.compile(r"```.*?```|\|\|.*?\|\|", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DigestLimits:
    """How many of each item a digest shows."""

    topics: int = 5
    decisions: int = 6
    questions: int = 6
    links: int = 8
    drivers: int = 3


def usable_messages(
    messages: Sequence[ChatMessage], *, excluded_authors: frozenset[int] = frozenset()
) -> tuple[list[ChatMessage], int]:
    """The messages a digest may use, oldest first, and how many were left out (bots, system
    messages, empty ones, and those of members who opted out)."""
    kept = [
        message for message in messages
        if not message.is_bot and not message.is_system and message.author_id not in excluded_authors
        and message.content.strip()
    ]
    kept.sort(key=lambda message: (message.created_at, message.message_id))
    return kept, len(messages) - len(kept)


def find_urls_in(text: str) -> list[str]:
    """The http(s) URLs in a message, trailing punctuation removed, in order, each once."""
    found: list[str] = []
    for match in _URL_RE.finditer(text):
        url = match.group().rstrip(".,;:!?>)]}*_~")
        if url not in found:
            found.append(url)
    return found


class LocalDigester:
    """The local engine behind the gate: ``await LocalDigester(...).digest(messages)``."""

    def __init__(self, *, embedder: Embedder, gate: WorkerGate, limits: DigestLimits = DigestLimits()) -> None:
        self._embedder = embedder
        self._gate = gate
        self._limits = limits

    async def digest(self, messages: Sequence[ChatMessage], *, skipped: int = 0) -> Digest:
        """Digest ``messages`` (already filtered by :func:`usable_messages`) off the event loop."""
        return await self._gate.run(digest_messages, list(messages), self._embedder, skipped=skipped,
                                    limits=self._limits)


def digest_messages(
    messages: Sequence[ChatMessage], embedder: Embedder, *, skipped: int = 0, limits: DigestLimits = DigestLimits()
) -> Digest:
    """The whole local digest; blocking.  ``messages`` are usable ones, oldest first."""
    if not messages:
        return Digest(skipped_count=skipped)
    texts = [_plain(message.content) for message in messages]
    embeddings = _embed(embedder, texts)
    digest = Digest(
        topics=_topics(messages, texts, embeddings, limits=limits),
        decisions=_decisions(messages, texts, limit=limits.decisions),
        open_questions=_open_questions(messages, texts, embeddings, limit=limits.questions),
        links=_links(messages, limit=limits.links),
        message_count=len(messages), participant_count=len({message.author_id for message in messages}),
        skipped_count=skipped, first_at=messages[0].created_at, last_at=messages[-1].created_at,
    )
    return with_jump_urls(digest, messages)


def with_jump_urls(digest: Digest, messages: Sequence[ChatMessage]) -> Digest:
    """The digest with the jump URL of every message it cites."""
    urls = {message.message_id: message.jump_url for message in messages if message.jump_url}
    return digest.model_copy(update={"jump_urls": {i: urls[i] for i in sorted(digest.cited_ids()) if i in urls}})


def _embed(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Unit vectors of the messages worth embedding (each distinct text once); zero rows for the rest."""
    wanted = [index for index, text in enumerate(texts) if len(content_words(text)) >= EMBED_MIN_WORDS]
    distinct = list(dict.fromkeys(texts[index][:MAX_EMBED_CHARS] for index in wanted))
    vectors = embedder.embed(distinct) if distinct else np.zeros((0, 1), dtype=np.float32)
    row_of = {text: row for row, text in enumerate(distinct)}
    result = np.zeros((len(texts), vectors.shape[1] if distinct else 1), dtype=np.float32)
    for index in wanted:
        result[index] = vectors[row_of[texts[index][:MAX_EMBED_CHARS]]]
    return result


def _cluster(vectors: np.ndarray, *, max_topics: int) -> np.ndarray:
    """Topic of each vector: k-means on at most :data:`CLUSTER_SAMPLE` evenly spaced ones, the rest
    assigned to the nearest topic centre (k-means cost stays flat for long chats)."""
    if vectors.shape[0] <= CLUSTER_SAMPLE:
        return cluster_sentences(vectors, max_themes=max_topics)
    sample = np.unique(np.linspace(0, vectors.shape[0] - 1, num=CLUSTER_SAMPLE).astype(np.int64))
    sample_labels = cluster_sentences(np.ascontiguousarray(vectors[sample]), max_themes=max_topics)
    centres = np.stack([vectors[sample[sample_labels == label]].mean(axis=0) for label in range(sample_labels.max() + 1)])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    labels = np.argmax(vectors @ centres.T, axis=1).astype(np.int64)
    labels[sample] = sample_labels
    _, labels = np.unique(labels, return_inverse=True)  # no empty topic numbers
    return labels.astype(np.int64)


def _plain(content: str) -> str:
    """Message text for reading: no code blocks or spoilers, no URLs, Markdown removed, one line."""
    text = _SPOILER_OR_CODE_RE.sub(" ", content)
    text = _URL_RE.sub(" ", text)
    return " ".join(clean_markdown(text).split())


def _topics(
    messages: Sequence[ChatMessage], texts: Sequence[str], embeddings: np.ndarray, *, limits: DigestLimits
) -> list[DigestTopic]:
    chosen = [index for index, text in enumerate(texts) if len(content_words(text)) >= TOPIC_MIN_WORDS]
    if len(chosen) < 2:
        return []
    vectors = np.ascontiguousarray(embeddings[chosen], dtype=np.float32)
    sentences = [Sentence(index=n, source_index=0, start=0, end=len(texts[i]), text=texts[i], clean=texts[i])
                 for n, i in enumerate(chosen)]
    labels = _cluster(vectors, max_topics=max(2, limits.topics + 1))
    themes = build_themes(sentences, vectors, labels, keyword_limit=6)
    themes.sort(key=lambda theme: (-len(theme.members), theme.cluster))
    topics: list[DigestTopic] = []
    for theme in themes[: limits.topics]:
        if len(theme.members) < 2 and topics:
            continue
        members = [chosen[member] for member in theme.members]
        central = chosen[theme.representative]
        authors = Counter(messages[index].author for index in members)
        ranked = sorted(members, key=lambda index: -float(embeddings[index] @ theme.centroid))
        topics.append(DigestTopic(
            title=theme.label, summary=f"{messages[central].author}: {one_line(texts[central], limit=LINE_CHARS)}",
            drivers=[f"{name} ({count})" for name, count in authors.most_common(limits.drivers)],
            message_ids=[messages[index].message_id for index in ranked[:3]], message_count=len(members),
        ))
    return topics


def _decisions(messages: Sequence[ChatMessage], texts: Sequence[str], *, limit: int) -> list[DigestItem]:
    found = [
        DigestItem(text=f"{message.author}: {one_line(text, limit=LINE_CHARS)}", message_ids=[message.message_id])
        for message, text in zip(messages, texts, strict=True)
        if _DECISION_RE.search(text) and not text.rstrip().endswith("?")
    ]
    return found[-limit:]


def _open_questions(
    messages: Sequence[ChatMessage], texts: Sequence[str], embeddings: np.ndarray, *, limit: int
) -> list[DigestItem]:
    replied = {message.reply_to for message in messages if message.reply_to is not None}
    found = []
    for index, (message, text) in enumerate(zip(messages, texts, strict=True)):
        if "?" not in text or len(content_words(text)) < 2 or message.message_id in replied:
            continue
        if _answered_nearby(messages, embeddings, index):
            continue
        question = next((part.strip() for part in re.split(r"(?<=\?)", text) if part.strip().endswith("?")), text)
        found.append(DigestItem(text=f"{message.author}: {one_line(question, limit=LINE_CHARS)}?".replace("??", "?"),
                                message_ids=[message.message_id]))
    return found[-limit:]


def _answered_nearby(messages: Sequence[ChatMessage], embeddings: np.ndarray, index: int) -> bool:
    asker = messages[index].author_id
    later = itertools.islice((other for other in range(index + 1, len(messages)) if messages[other].author_id != asker),
                             ANSWER_WINDOW)
    return any(float(embeddings[index] @ embeddings[other]) >= ANSWER_SIMILARITY for other in later)


def _links(messages: Sequence[ChatMessage], *, limit: int) -> list[DigestLink]:
    shared: dict[str, list[ChatMessage]] = {}
    for message in messages:
        for url in find_urls_in(message.content):
            shared.setdefault(url, []).append(message)
    ranked = sorted(shared.items(), key=lambda item: -len(item[1]))[:limit]
    links = []
    for url, sharers in ranked:
        first = sharers[0]
        said = _plain(first.content)
        line = f"{first.author}: {one_line(said, limit=LINE_CHARS)}" if said else f"shared by {first.author}"
        if len(sharers) > 1:
            line += f" (shared {len(sharers)} times)"
        links.append(DigestLink(url=url, line=line, message_ids=[sharer.message_id for sharer in sharers[:5]]))
    return links
