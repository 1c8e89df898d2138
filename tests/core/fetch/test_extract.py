"""Charset detection and the HTML and PDF extractors."""

from __future__ import annotations

import pytest

from core.errors import UnreadableSourceError
from core.fetch.extract import decode_body, extract_document, extract_html, extract_pdf
from tests.fakes.web_server import ARTICLE_HTML, PDF_LINES, UTF8_WORDS, minimal_pdf


def test_utf8_declared_as_latin1_is_decoded_as_utf8() -> None:
    body = UTF8_WORDS.encode("utf-8")
    assert decode_body(body, declared_charset="iso-8859-1", media_type="text/plain") == UTF8_WORDS


def test_latin1_declared_as_utf8_is_decoded_without_mojibake() -> None:
    body = UTF8_WORDS.encode("latin-1")
    assert decode_body(body, declared_charset="utf-8", media_type="text/plain") == UTF8_WORDS


def test_html_meta_charset_is_used_when_the_header_says_nothing() -> None:
    html = '<html><head><meta charset="windows-1252"></head><body>Caf\xe9 \u20ac5</body></html>'
    decoded = decode_body(html.encode("cp1252"), declared_charset=None, media_type="text/html")
    assert "Café €5" in decoded


def test_undeclared_legacy_text_is_detected() -> None:
    text = "Les élèves étudient à l'école près de la forêt; déjà ils préfèrent les récréations."
    assert decode_body(text.encode("cp1252"), declared_charset=None, media_type="text/plain") == text


def test_unknown_declared_charset_does_not_crash() -> None:
    assert decode_body(b"plain words", declared_charset="x-no-such-charset", media_type="text/plain") == "plain words"


def test_html_extraction_keeps_the_article_and_drops_boilerplate() -> None:
    extracted = extract_html(ARTICLE_HTML, name="article.html")
    assert "Ridership on the Riverton tram rose 18 percent in 2023" in extracted.text
    for boilerplate in ("Subscribe now", "cookies", "Celebrity weddings", "All rights reserved"):
        assert boilerplate not in extracted.text
    assert extracted.author == "Mara Olsen"
    assert extracted.published == "2024-02-14"
    assert extracted.title is not None and "Riverton tram" in extracted.title


def test_html_without_article_text_is_a_clear_message() -> None:
    with pytest.raises(UnreadableSourceError, match=r"empty\.html: no readable article text"):
        extract_html("<html><body><script>var tracking = 1;</script></body></html>", name="empty.html")


def test_pdf_text_and_metadata_are_extracted() -> None:
    extracted = extract_pdf(minimal_pdf(PDF_LINES, title="Harbour report"), name="report.pdf")
    assert "Cargo volumes at the harbour grew 6 percent in 2023" in extracted.text
    assert extracted.title == "Harbour report"
    assert extracted.author == "Test Writer"


def test_pdf_without_text_says_so() -> None:
    with pytest.raises(UnreadableSourceError) as refused:
        extract_pdf(minimal_pdf([]), name="scan.pdf")
    assert str(refused.value) == (
        "scan.pdf: the PDF has no extractable text (it may be scanned images); paste the text instead"
    )


def test_broken_pdf_says_so() -> None:
    with pytest.raises(UnreadableSourceError, match="not a readable PDF"):
        extract_pdf(b"%PDF-1.4\nthis is not really a pdf", name="broken.pdf")


def test_plain_text_document_is_returned_as_text() -> None:
    extracted = extract_document(
        b"  Just words about trams.  ", media_type="text/plain", declared_charset=None, name="notes"
    )
    assert extracted.text == "Just words about trams."
