"""Turning fetched or attached bytes into plain text with metadata.

Everything here is blocking (charset detection, trafilatura, pypdf): call it through
:meth:`core.gate.WorkerGate.run`.  Failures are :class:`~core.errors.UnreadableSourceError` with a
short reason; the caller names the source.
"""

from __future__ import annotations

import codecs
import io
import logging
import re

from pydantic import BaseModel

from core.errors import UnreadableSourceError

__all__ = [
    "HTML_MEDIA_TYPES",
    "PDF_MEDIA_TYPES",
    "TEXT_MEDIA_TYPES",
    "ExtractedText",
    "decode_body",
    "extract_document",
    "extract_html",
    "extract_pdf",
]

_log = logging.getLogger(__name__)

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_MEDIA_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
PDF_MEDIA_TYPES = frozenset({"application/pdf"})

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
# Labels HTML treats as windows-1252 (a superset of latin-1 that servers mean in practice).
_WINDOWS_1252_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})
_WESTERN_ENCODINGS = frozenset({"cp1252", "latin_1", "iso8859_15"})
_CHAOS_MARGIN = 0.1
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class ExtractedText(BaseModel):
    """The readable text of a page or file, with what metadata it declared."""

    text: str
    title: str | None = None
    author: str | None = None
    published: str | None = None


def decode_body(body: bytes, *, declared_charset: str | None, media_type: str) -> str:
    """Decode ``body``: a byte-order mark first, then valid UTF-8, then the declared charset
    (HTTP header, then ``<meta>`` for HTML), then charset-normalizer's guess.

    Valid UTF-8 wins over a declaration because mislabelled UTF-8 (served as latin-1) is common and
    UTF-8 with non-ASCII bytes almost never decodes by accident; the reverse (latin-1 declared as
    UTF-8) fails strict decoding and falls through to the declared or detected charset.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = [declared_charset]
    if media_type in HTML_MEDIA_TYPES:
        match = _META_CHARSET.search(body[:8192])
        candidates.append(match.group(1).decode("ascii") if match else None)
    for label in candidates:
        text = _decode_as(body, label)
        if text is not None:
            return text
    return _detect_and_decode(body)


def _decode_as(body: bytes, label: str | None) -> str | None:
    if not label:
        return None
    encoding = "cp1252" if label.strip().lower() in _WINDOWS_1252_LABELS else label.strip()
    try:
        return body.decode(encoding)
    except LookupError:
        return None
    except UnicodeDecodeError:
        return body.decode("latin-1") if encoding == "cp1252" else None


def _detect_and_decode(body: bytes) -> str:
    """charset-normalizer's guess; windows-1252 when it fits as well as the best guess, since short
    Western texts often tie between single-byte charsets and windows-1252 is the web's usual one."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body))
    if not matches:
        return body.decode("utf-8", errors="replace")
    best = matches[0]
    for match in matches:
        if match.encoding in _WESTERN_ENCODINGS and match.chaos <= best.chaos + _CHAOS_MARGIN:
            return str(match)
    return str(best)


def extract_html(html: str, *, name: str, url: str | None = None) -> ExtractedText:
    """The main article text and metadata of an HTML page (navigation and boilerplate dropped)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_images=False
    )
    text = getattr(document, "text", None) if document is not None else None
    if not text or not text.strip():
        raise UnreadableSourceError(name, "no readable article text was found in the page")
    return ExtractedText(
        text=text.strip(),
        title=_clean(getattr(document, "title", None)),
        author=_clean(getattr(document, "author", None)),
        published=_clean(getattr(document, "date", None)),
    )


def extract_pdf(data: bytes, *, name: str) -> ExtractedText:
    """The text of every page of a PDF, with its title and author if it declares them."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableSourceError(name, "the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableSourceError(name, "the file is not a readable PDF") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise UnreadableSourceError(
            name, "the PDF has no extractable text (it may be scanned images); paste the text instead"
        )
    return ExtractedText(
        text=text,
        title=_clean(metadata.title if metadata else None),
        author=_clean(metadata.author if metadata else None),
    )


def extract_document(
    body: bytes, *, media_type: str, declared_charset: str | None, name: str, url: str | None = None
) -> ExtractedText:
    """Dispatch on the media type: HTML through trafilatura, PDF through pypdf, text as is."""
    if media_type in PDF_MEDIA_TYPES:
        return extract_pdf(body, name=name)
    text = decode_body(body, declared_charset=declared_charset, media_type=media_type)
    if media_type in HTML_MEDIA_TYPES:
        return extract_html(text, name=name, url=url)
    return ExtractedText(text=text.strip())


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:300] or None
