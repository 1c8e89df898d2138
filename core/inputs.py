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

from pydantic import BaseModel, ConfigDict, Field

from core.errors import (
    EmptyInputError,
    InputTooLargeError,
    InputTooShortError,
    TooManySourcesError,
    UnsupportedInputError,
)
from core.fetch.extract import ExtractedText, decode_body, extract_html, extract_pdf
from core.models import SourceDocument, count_words
from core.settings import Settings

__all__ = [
    "ATTACHMENT_SUFFIXES",
    "DOCUMENT_FILE_SUFFIXES",
    "TEXT_FILE_SUFFIXES",
    "Attachment",
    "FileInfo",
    "InputLimits",
    "attachment_byte_limit",
    "attachment_document",
    "check_file",
    "check_request_input",
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


class InputLimits(BaseModel):
    """The limits every front end applies; built from settings (``InputLimits.from_settings``)."""

    model_config = ConfigDict(frozen=True)

    max_chars: int = Field(ge=1)
    min_words: int = Field(ge=1)
    max_sources: int = Field(ge=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> InputLimits:
        return cls(
            max_chars=settings.max_input_chars, min_words=settings.min_input_words,
            max_sources=settings.fetch_max_sources,
        )


class FileInfo(BaseModel):
    """A file as a front end knows it before reading it: its name and (declared) size in bytes."""

    model_config = ConfigDict(frozen=True)

    filename: str
    size: int = Field(ge=0)

    @property
    def suffix(self) -> str:
        return PurePath(self.filename).suffix.lower()


def attachment_byte_limit(suffix: str, *, max_chars: int) -> int:
    """The most bytes a file of this type may have: 4 a character for text (the UTF-8 worst case);
    .html and .pdf carry markup around their text, so they get twice that."""
    return max_chars * (4 if suffix in TEXT_FILE_SUFFIXES else 8)


def check_file(file: FileInfo, *, limits: InputLimits) -> None:
    """Refuse a file by its type and size, before it is downloaded or read."""
    if file.suffix not in ATTACHMENT_SUFFIXES:
        allowed = ", ".join(ATTACHMENT_SUFFIXES)
        raise UnsupportedInputError(f"{file.filename}: only {allowed} files can be analysed.")
    byte_limit = attachment_byte_limit(file.suffix, max_chars=limits.max_chars)
    if file.size > byte_limit:
        raise InputTooLargeError(size=file.size, limit=byte_limit, unit="bytes")


def check_request_input(target: str, *, files: tuple[FileInfo, ...] = (), limits: InputLimits) -> None:
    """The input rules of ``/autointel``, for every front end, before any work or download.

    Nothing at all, too many URLs, text that is too short or too long, a file of the wrong type
    or too big: each refused with a message saying the limit.  URLs themselves are checked later
    (guard, domain lists): that needs DNS, and one refused URL in a batch must not sink the others.
    """
    for file in files:
        check_file(file, limits=limits)
    target = target.strip()
    if not target:
        if not files:
            raise EmptyInputError()
        return
    urls = find_urls(target)
    if urls:
        if len(urls) > limits.max_sources:
            raise TooManySourcesError(count=len(urls), limit=limits.max_sources)
        return
    validate_text(target, max_chars=limits.max_chars, min_words=limits.min_words)


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
    file = FileInfo(filename=attachment.filename, size=len(attachment.data))
    check_file(file, limits=InputLimits(max_chars=max_chars, min_words=min_words, max_sources=1))
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
