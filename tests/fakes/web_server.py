"""A real HTTP server on 127.0.0.1 serving articles written for these tests, plus hostile pages.

Use the ``web_server`` fixture (see ``tests/core/fetch/conftest.py``); :func:`loopback_guard` builds
the one :class:`~core.fetch.guard.UrlGuard` that may reach it: the test-only network allowance for
127.0.0.1/32, a :class:`StaticResolver` that maps ``news.test`` (and friends) to it, and the
server's port.  The default guard refuses the server, which is the point.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from core.fetch.guard import UrlGuard
from core.fetch.urls import IPAddress

__all__ = [
    "ARTICLE_HTML",
    "FERRY_TEXT",
    "TRAM_TEXT_CONTRADICTING",
    "LoopbackSite",
    "StaticResolver",
    "loopback_guard",
    "minimal_pdf",
    "start_web_server",
    "web_server",
]

ARTICLE_BODY = (
    "Riverton opened the second line of its tram network in March, three years after construction "
    "began. Ridership on the Riverton tram rose 18 percent in 2023, according to the city transport "
    "office. The new line links the university district with the old harbour and runs every six "
    "minutes at peak times. City planners say the extension cut car traffic on Harbour Road by a "
    "fifth. Local shop owners near the new stops report more customers on weekdays. The project "
    "cost 240 million euros, most of it paid by a regional infrastructure fund. Critics argue that "
    "the money would have bought far more electric buses. The transport office plans a third line "
    "to the airport by 2028 if the regional fund agrees to pay for it."
)

ARTICLE_HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Riverton tram extension | Riverton Daily</title>
<meta name="author" content="Mara Olsen">
<meta property="article:published_time" content="2024-02-14">
</head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a> | Subscribe now</nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies.</div>
<article><h1>Riverton tram extension carries more riders</h1>
<p>{ARTICLE_BODY}</p></article>
<aside>Most read: Ten recipes for summer. Celebrity weddings of the year.</aside>
<footer>Copyright 2024 Riverton Daily. All rights reserved. Privacy policy. Terms of use.</footer>
</body></html>"""

TRAM_TEXT_CONTRADICTING = (
    "Riverton tram review, by the Harbour Residents Association.\n\n"
    "Ridership on the Riverton tram fell 18 percent in 2023, according to the residents' own counts "
    "at the harbour stops. The new line links the university district with the old harbour, yet "
    "trams often run half empty outside the morning rush. Car traffic on Harbour Road did not fall "
    "at all, the association says. The project cost 240 million euros from the regional "
    "infrastructure fund, money the association would rather have spent on electric buses and "
    "safer cycle lanes. Shop owners near the harbour complain that construction drove customers away."
)

FERRY_TEXT = (
    "Harbour ferry timetable changes.\n\n"
    "From June the harbour ferry will run every twenty minutes between the old harbour and the "
    "island villages. The ferry company bought two battery-powered boats that charge at the pier "
    "overnight. Tickets stay at three euros for adults, and children under twelve travel free. "
    "Villagers asked for a late boat on Fridays, and the company agreed to a trial through August."
)

UTF8_WORDS = "Café naïve façade: the café on the façade street served crème brûlée to naïve tourists."


def minimal_pdf(lines: Sequence[str], *, title: str = "Test PDF") -> bytes:
    """A valid one-page PDF whose text layer holds ``lines`` (Helvetica), built by hand."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " T* ".join(f"({escape(line)}) Tj" for line in lines)
    content = f"BT /F1 11 Tf 14 TL 50 780 Td {shown} ET".encode("latin-1") if lines else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({escape(title)}) /Author (Test Writer) >>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref_at,
    )
    return bytes(out)


PDF_LINES = [
    "Annual report of the Riverton harbour authority.",
    "Cargo volumes at the harbour grew 6 percent in 2023 while passenger ferries carried",
    "more people than ever before. The authority will deepen the main channel next year",
    "so that larger container ships can reach the eastern quay without waiting for the tide.",
]


class StaticResolver:
    """A test resolver: fixed answers per host name; unknown names are not found."""

    def __init__(self, answers: Mapping[str, Sequence[str]]) -> None:
        self.answers = {host: [ipaddress.ip_address(a) for a in addresses] for host, addresses in answers.items()}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        if host not in self.answers:
            raise OSError(f"test resolver: unknown host {host}")
        return list(self.answers[host])


@dataclass
class LoopbackSite:
    """The running server: its port and how to build URLs on it."""

    port: int
    hits: list[str] = field(default_factory=list)
    watched_text: str = ""
    """What ``/watched`` serves (text/plain, with an ETag of its content; If-None-Match gets a 304)."""

    def url(self, path: str, *, host: str = "news.test") -> str:
        return f"http://{host}:{self.port}{path}"


def loopback_guard(site: LoopbackSite, *, resolver: StaticResolver | None = None) -> UrlGuard:
    """The test-only guard that may reach the loopback server (127.0.0.1/32 and nothing else)."""
    return UrlGuard(
        allowed_ports=[80, 443, site.port],
        resolver=resolver or StaticResolver({"news.test": ["127.0.0.1"], "blog.test": ["127.0.0.1"]}),
        test_allowed_networks=["127.0.0.1/32"],
    )


def _routes(site: LoopbackSite) -> list[web.RouteDef]:
    def text(body: str | bytes, content_type: str) -> web.Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        return web.Response(body=data, headers={"Content-Type": content_type})

    async def redirect_chain(request: web.Request) -> web.Response:
        remaining = int(request.match_info["remaining"])
        target = "/article.html" if remaining == 0 else f"/redirect/{remaining - 1}"
        raise web.HTTPFound(target)

    async def redirect_to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return text(ARTICLE_HTML, "text/html")

    async def delayed(request: web.Request) -> web.Response:
        """``/delayed/<ms>/<page>``: one of the pages below, after ``ms`` milliseconds."""
        await asyncio.sleep(int(request.match_info["ms"]) / 1000)
        return pages["/" + request.match_info["page"]]()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        chunk = b"all work and no play makes a dull article " * 1000
        while True:
            await response.write(chunk)

    async def echo_host(request: web.Request) -> web.Response:
        words = " ".join(["padding"] * 30)
        return text(f"The Host header was {request.host}. {words}", "text/plain")

    pages = {
        "/article.html": lambda: text(ARTICLE_HTML, "text/html; charset=utf-8"),
        "/mirror/article.html": lambda: text(ARTICLE_HTML, "text/html; charset=utf-8"),
        "/review.txt": lambda: text(TRAM_TEXT_CONTRADICTING, "text/plain; charset=utf-8"),
        "/ferry.md": lambda: text(FERRY_TEXT, "text/markdown"),
        "/report.pdf": lambda: text(minimal_pdf(PDF_LINES, title="Harbour report"), "application/pdf"),
        "/scanned.pdf": lambda: text(minimal_pdf([]), "application/pdf"),
        "/binary": lambda: text(bytes(range(256)) * 64, "application/octet-stream"),
        "/picture.png": lambda: text(b"\x89PNG\r\n\x1a\n" + bytes(500), "image/png"),
        "/mislabelled-latin1": lambda: text((UTF8_WORDS + " " + FERRY_TEXT).encode("utf-8"),
                                           "text/plain; charset=iso-8859-1"),
        "/mislabelled-utf8": lambda: text((UTF8_WORDS + " " + FERRY_TEXT).encode("latin-1"),
                                         "text/plain; charset=utf-8"),
        "/html-meta-latin1": lambda: text(
            ARTICLE_HTML.replace('charset="utf-8"', 'charset="iso-8859-1"')
            .replace("Riverton opened", "Café Riverton opened").encode("latin-1"),
            "text/html",
        ),
    }

    def page_handler(path: str):  # type: ignore[no-untyped-def]
        async def handler(request: web.Request) -> web.Response:
            return pages[path]()

        return handler

    async def watched(request: web.Request) -> web.Response:
        tag = f'"{hashlib.sha256(site.watched_text.encode()).hexdigest()[:16]}"'
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(body=site.watched_text.encode(), headers={"Content-Type": "text/plain", "ETag": tag})

    routes = [web.get(path, page_handler(path)) for path in pages]
    routes += [
        web.get("/watched", watched),
        web.get("/redirect/{remaining}", redirect_chain),
        web.get("/redirect-to", redirect_to),
        web.get("/slow", slow),
        web.get("/delayed/{ms}/{page:.+}", delayed),
        web.get("/endless", endless),
        web.get("/echo-host", echo_host),
    ]
    return routes


async def start_web_server() -> tuple[web.AppRunner, LoopbackSite]:
    """Start the server on 127.0.0.1 with a free port; the caller cleans the runner up."""
    app = web.Application()
    site = LoopbackSite(port=0)

    @web.middleware
    async def record_hits(request: web.Request, handler):  # type: ignore[no-untyped-def]
        site.hits.append(request.path_qs)
        return await handler(request)

    app.middlewares.append(record_hits)
    app.add_routes(_routes(site))
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    site.port = listener.getsockname()[1]
    await web.SockSite(runner, listener).start()
    return runner, site


@pytest.fixture
async def web_server() -> AsyncIterator[LoopbackSite]:
    """The loopback server for one test."""
    runner, site = await start_web_server()
    try:
        yield site
    finally:
        await runner.cleanup()
