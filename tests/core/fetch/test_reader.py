"""Reading URLs, batches and attachments into documents, with extraction on the worker gate."""

from __future__ import annotations

import pytest

from core.errors import InputTooShortError, UnreadableSourceError, UnsupportedInputError
from core.fetch.reader import SourceReader
from core.fetch.transport import tls_context
from core.gate import WorkerGate
from core.inputs import Attachment
from core.progress import Progress
from core.settings import Settings
from tests.fakes.web_server import (
    ARTICLE_HTML,
    PDF_LINES,
    LoopbackSite,
    loopback_guard,
    minimal_pdf,
)


def make_reader(settings: Settings, gate: WorkerGate, site: LoopbackSite) -> SourceReader:
    return SourceReader.from_settings(settings, gate=gate, guard=loopback_guard(site), tls_context=tls_context())


async def test_html_page_becomes_a_url_document_with_metadata(
    settings: Settings, gate: WorkerGate, web_server: LoopbackSite
) -> None:
    document = await make_reader(settings, gate, web_server).read_url(web_server.url("/article.html"))
    assert document.kind == "url"
    assert document.url == web_server.url("/article.html")
    assert document.author == "Mara Olsen"
    assert "Ridership on the Riverton tram rose 18 percent" in document.text
    assert "Subscribe now" not in document.text
    assert gate.stats.completed >= 1


async def test_pdf_url_becomes_text(settings: Settings, gate: WorkerGate, web_server: LoopbackSite) -> None:
    document = await make_reader(settings, gate, web_server).read_url(web_server.url("/report.pdf"))
    assert "deepen the main channel" in document.text
    assert document.title == "Harbour report"


async def test_mislabelled_charsets_are_read_correctly(
    settings: Settings, gate: WorkerGate, web_server: LoopbackSite
) -> None:
    reader = make_reader(settings, gate, web_server)
    utf8_as_latin1 = await reader.read_url(web_server.url("/mislabelled-latin1"))
    latin1_as_utf8 = await reader.read_url(web_server.url("/mislabelled-utf8"))
    html_meta = await reader.read_url(web_server.url("/html-meta-latin1"))
    assert utf8_as_latin1.text.startswith("Café naïve façade")
    assert latin1_as_utf8.text.startswith("Café naïve façade")
    assert "Café Riverton opened" in html_meta.text


async def test_batch_reports_the_failing_source_and_keeps_the_others(
    settings: Settings, gate: WorkerGate, web_server: LoopbackSite
) -> None:
    urls = [web_server.url("/article.html"), web_server.url("/no-such-page"), web_server.url("/ferry.md")]
    updates: list[Progress] = []

    async def remember(progress: Progress) -> None:
        updates.append(progress)

    batch = await make_reader(settings, gate, web_server).read_batch(urls, concurrency=2, progress=remember)
    assert [document.url for document in batch.documents] == [urls[0], urls[2]]
    assert batch.failed_sources == [f"{urls[1]}: the server answered 404 Not Found"]
    assert updates[0].describe() == "Reading sources (0/3): fetched 0/3, analysed 0/3"
    assert updates[-1].describe() == "Reading sources (3/3): fetched 2/3, analysed 2/3, 1 failed"
    assert any("fetched 1/3" in update.detail for update in updates)


async def test_batch_reads_the_same_article_at_two_addresses_once(
    settings: Settings, gate: WorkerGate, web_server: LoopbackSite
) -> None:
    urls = [
        web_server.url("/article.html"),
        web_server.url("/mirror/article.html"),
        web_server.url("/article.html?utm_source=newsletter"),
    ]
    batch = await make_reader(settings, gate, web_server).read_batch(urls)
    assert len(batch.documents) == 1
    assert batch.failed_sources == []
    assert batch.notices == [
        f"{urls[2]} is the same link as {urls[0]}; it was read once.",
        f"{urls[1]} has the same text as {urls[0]}; analysed once.",
    ]
    assert web_server.hits.count("/article.html") == 1


async def test_batch_with_every_source_failing_returns_only_failures(
    settings: Settings, gate: WorkerGate, web_server: LoopbackSite
) -> None:
    urls = [web_server.url("/binary"), "http://10.0.0.1/admin", web_server.url("/scanned.pdf")]
    batch = await make_reader(settings, gate, web_server).read_batch(urls)
    assert batch.documents == []
    assert batch.failed_sources == [
        f"{urls[0]}: it is application/octet-stream; only HTML, plain text, Markdown and PDF are read",
        "http://10.0.0.1/admin: the host points to a private network address, which is not allowed",
        f"{urls[2]}: the PDF has no extractable text (it may be scanned images); paste the text instead",
    ]


async def test_short_page_fails_with_the_word_minimum(
    settings: Settings, gate: WorkerGate, web_server: LoopbackSite
) -> None:
    strict = settings.model_copy(update={"min_input_words": 500})
    with pytest.raises(InputTooShortError):
        await make_reader(strict, gate, web_server).read_url(web_server.url("/ferry.md"))


async def test_html_attachment_is_extracted_on_the_gate(settings: Settings, gate: WorkerGate) -> None:
    reader = SourceReader.from_settings(settings, gate=gate, tls_context=tls_context())
    document = await reader.read_attachment(Attachment("tram.html", ARTICLE_HTML.encode(), "text/html"))
    assert document.kind == "file"
    assert document.filename == "tram.html"
    assert "Ridership on the Riverton tram rose 18 percent" in document.text
    assert "cookies" not in document.text
    assert gate.stats.completed == 1


async def test_pdf_attachment_is_extracted(settings: Settings, gate: WorkerGate) -> None:
    reader = SourceReader.from_settings(settings, gate=gate, tls_context=tls_context())
    document = await reader.read_attachment(Attachment("harbour.pdf", minimal_pdf(PDF_LINES, title="Harbour")))
    assert "Cargo volumes at the harbour grew 6 percent" in document.text
    assert document.title == "Harbour"


async def test_pdf_attachment_without_text_is_a_clear_message(settings: Settings, gate: WorkerGate) -> None:
    reader = SourceReader.from_settings(settings, gate=gate, tls_context=tls_context())
    with pytest.raises(UnreadableSourceError, match=r"scan\.pdf: the PDF has no extractable text"):
        await reader.read_attachment(Attachment("scan.pdf", minimal_pdf([])))


async def test_other_attachment_types_are_refused_with_the_accepted_list(
    settings: Settings, gate: WorkerGate
) -> None:
    reader = SourceReader.from_settings(settings, gate=gate, tls_context=tls_context())
    with pytest.raises(UnsupportedInputError) as refused:
        await reader.read_attachment(Attachment("notes.docx", b"PK\x03\x04"))
    assert str(refused.value) == "notes.docx: only .txt, .md, .markdown, .html, .htm, .pdf files can be analysed."
