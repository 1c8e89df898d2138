"""Turning what a user typed or attached into :class:`~core.models.SourceDocument` objects.

Pure functions with clear limits; every refusal is an :class:`~core.errors.InputError` whose
message says what the limit is.  :func:`attachment_document` blocks for .html and .pdf files
(trafilatura, pypdf): async callers run it through the worker gate.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from core.errors import (
    EmptyInputError,
    InputTooLargeError,
    InputTooShortError,
    UnsupportedInputError,
)
from core.fetch.extract import ExtractedText, decode_body, extract_html, extract_pdf
from core.models import SourceDocument, count_words

__all__ = [
    "ATTACHMENT_SUFFIXES",
    "DOCUMENT_FILE_SUFFIXES",
    "TEXT_FILE_SUFFIXES",
    "Attachment",
    "attachment_document",
    "decode_text_bytes",
    "find_urls",
    "split_target",
    "text_document",
    "validate_text",
]

TEXT_FILE_SUFFIXES = (".txt", ".md", ".markdown")
DOCUMENT_FILE_SUFFIXES = (".html", ".htm", ".pdf")
ATTACHMENT_SUFFIXES = TEXT_FILE_SUFFIXES + DOCUMENT_FILE_SUFFIXES

_URL_RE = re.compile(r"^(?:https?|ftp|file|gopher|data|javascript)://\S+$|^www\.\S+\.\S+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a user attached: its name, declared content type and raw bytes."""

    filename: str
    data: bytes
    content_type: str | None = None

    @property
    def suffix(self) -> str:
        return PurePath(self.filename).suffix.lower()


def split_target(target: str) -> list[str]:
    """Split a target on whitespace into tokens (used to tell a URL list from text)."""
    return target.split()


def find_urls(target: str) -> list[str] | None:
    """Return the URLs if ``target`` is nothing but URLs separated by whitespace, else ``None``."""
    tokens = split_target(target)
    if tokens and all(_URL_RE.match(token) for token in tokens):
        return tokens
    return None


def decode_text_bytes(data: bytes, *, filename: str) -> str:
    """Decode a text file: UTF-8 (with or without BOM), then UTF-16 by BOM, else refuse binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:8192]:
        raise UnsupportedInputError(f"{filename} looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("latin-1")
    if _control_ratio(text) > 0.05:
        raise UnsupportedInputError(f"{filename} looks like a binary file, not text.")
    return text


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:20_000]
    controls = sum(
        1 for char in sample if unicodedata.category(char) in ("Cc", "Cs", "Co") and char not in "\n\r\t\f"
    )
    return controls / len(sample)


def validate_text(text: str, *, max_chars: int, min_words: int) -> str:
    """Normalise line endings and check the limits; returns the text to analyse."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise EmptyInputError()
    if len(text) > max_chars:
        raise InputTooLargeError(size=len(text), limit=max_chars)
    if _control_ratio(text) > 0.05:
        raise UnsupportedInputError("The input looks like binary data, not text.")
    words = count_words(text)
    if words < min_words:
        raise InputTooShortError(words=words, minimum=min_words)
    return text


def text_document(text: str, *, max_chars: int, min_words: int, title: str | None = None) -> SourceDocument:
    """A validated document from pasted text."""
    return SourceDocument(kind="text", text=validate_text(text, max_chars=max_chars, min_words=min_words), title=title)


def attachment_document(attachment: Attachment, *, max_chars: int, min_words: int) -> SourceDocument:
    """A validated document from an attachment (.txt, .md, .html, .pdf).

    Blocking for .html and .pdf (extraction): call it through the worker gate from async code.
    """
    if attachment.suffix not in ATTACHMENT_SUFFIXES:
        allowed = ", ".join(ATTACHMENT_SUFFIXES)
        raise UnsupportedInputError(f"{attachment.filename}: only {allowed} files can be analysed.")
    # A byte cap before decoding: 4 bytes per character is the UTF-8 worst case.  HTML and PDF
    # carry markup around the text, so they get the same cap on their raw size times two.
    byte_limit = max_chars * (4 if attachment.suffix in TEXT_FILE_SUFFIXES else 8)
    if len(attachment.data) > byte_limit:
        raise InputTooLargeError(size=len(attachment.data), limit=byte_limit, unit="bytes")
    extracted = _attachment_text(attachment)
    return SourceDocument(
        kind="file",
        text=validate_text(extracted.text, max_chars=max_chars, min_words=min_words),
        filename=attachment.filename,
        title=extracted.title or attachment.filename,
        author=extracted.author,
        published=extracted.published,
    )


def _attachment_text(attachment: Attachment) -> ExtractedText:
    if attachment.suffix == ".pdf":
        return extract_pdf(attachment.data, name=attachment.filename)
    if attachment.suffix in DOCUMENT_FILE_SUFFIXES:
        html = decode_body(attachment.data, declared_charset=None, media_type="text/html")
        return extract_html(html, name=attachment.filename)
    return ExtractedText(text=decode_text_bytes(attachment.data, filename=attachment.filename))
