"""Fetching from a real HTTP server on loopback, reachable only through the test-only allowance."""

from __future__ import annotations

import functools
import ipaddress
import ssl

import httpx
import pytest

from core.errors import (
    BlockedUrlError,
    FetchError,
    FetchTimeoutError,
    SourceTooLargeError,
    UnsupportedContentError,
)
from core.fetch.fetcher import UrlFetcher
from core.fetch.guard import UrlGuard
from core.fetch.transport import PinnedNetworkBackend, PinnedTransport, tls_context
from core.settings import Settings
from tests.fakes.web_server import LoopbackSite, StaticResolver, loopback_guard


@functools.cache
def _tls() -> ssl.SSLContext:
    """One context for the module, as the runtime makes one for the process."""
    return tls_context()


def make_fetcher(
    guard: UrlGuard, *, max_bytes: int = 200_000, total_timeout: float = 5.0, max_redirects: int = 5
) -> UrlFetcher:
    return UrlFetcher(
        guard=guard,
        max_bytes=max_bytes,
        connect_timeout_seconds=2.0,
        total_timeout_seconds=total_timeout,
        max_redirects=max_redirects,
        transport_factory=functools.partial(PinnedTransport, tls_context=_tls()),
    )


async def test_article_is_fetched_through_the_test_allowance(web_server: LoopbackSite) -> None:
    fetched = await make_fetcher(loopback_guard(web_server)).fetch(web_server.url("/article.html"))
    assert fetched.media_type == "text/html"
    assert fetched.charset == "utf-8"
    assert b"Riverton tram" in fetched.body
    assert web_server.hits == ["/article.html"]


async def test_default_guard_cannot_reach_the_loopback_server(web_server: LoopbackSite) -> None:
    default = UrlGuard(allowed_ports=[web_server.port], resolver=StaticResolver({"news.test": ["127.0.0.1"]}))
    for url in (web_server.url("/article.html"), web_server.url("/article.html", host="127.0.0.1")):
        with pytest.raises(BlockedUrlError, match="loopback"):
            await make_fetcher(default).fetch(url)
    assert web_server.hits == []


async def test_connection_goes_to_the_checked_address_with_the_original_host_header(
    web_server: LoopbackSite,
) -> None:
    # "news.test" exists only in the test resolver: any second lookup by the HTTP client would fail.
    resolver = StaticResolver({"news.test": ["127.0.0.1"]})
    fetched = await make_fetcher(loopback_guard(web_server, resolver=resolver)).fetch(web_server.url("/echo-host"))
    assert f"The Host header was news.test:{web_server.port}." in fetched.body.decode()
    assert resolver.lookups == ["news.test"]


async def test_redirect_chain_of_five_hops_is_followed_and_each_hop_checked(web_server: LoopbackSite) -> None:
    resolver = StaticResolver({"news.test": ["127.0.0.1"]})
    fetcher = make_fetcher(loopback_guard(web_server, resolver=resolver))
    fetched = await fetcher.fetch(web_server.url("/redirect/4"))
    assert fetched.redirects == 5
    assert fetched.final_url == web_server.url("/article.html")
    assert fetched.requested_url == web_server.url("/redirect/4")
    assert len(resolver.lookups) == 6


async def test_more_than_five_redirects_are_refused(web_server: LoopbackSite) -> None:
    with pytest.raises(FetchError, match="redirects more than 5 times"):
        await make_fetcher(loopback_guard(web_server)).fetch(web_server.url("/redirect/5"))
    assert "/article.html" not in web_server.hits


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.2:{port}/article.html", "loopback"),
        ("http://[::1]:{port}/article.html", "loopback"),
        ("http://localhost:{port}/article.html", "local or internal"),
        ("http://2130706434:{port}/article.html", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ],
)
async def test_redirect_from_allowed_server_into_other_internal_address_is_refused(
    web_server: LoopbackSite, target: str, reason: str
) -> None:
    url = web_server.url("/redirect-to?to=" + target.format(port=web_server.port))
    with pytest.raises(BlockedUrlError, match=reason):
        await make_fetcher(loopback_guard(web_server)).fetch(url)


async def test_slow_server_times_out_with_a_clear_message(web_server: LoopbackSite) -> None:
    with pytest.raises(FetchTimeoutError) as refused:
        await make_fetcher(loopback_guard(web_server), total_timeout=0.5).fetch(web_server.url("/slow"))
    assert str(refused.value) == (
        f"Could not use {web_server.url('/slow')}: the server did not answer within 0.5 seconds"
    )


async def test_endless_body_is_cut_at_the_size_cap(web_server: LoopbackSite) -> None:
    with pytest.raises(SourceTooLargeError, match=r"larger than the 0\.1 MB limit"):
        await make_fetcher(loopback_guard(web_server), max_bytes=100_000).fetch(web_server.url("/endless"))


@pytest.mark.parametrize(
    ("path", "content_type"), [("/binary", "application/octet-stream"), ("/picture.png", "image/png")]
)
async def test_binary_content_is_refused(web_server: LoopbackSite, path: str, content_type: str) -> None:
    with pytest.raises(UnsupportedContentError) as refused:
        await make_fetcher(loopback_guard(web_server)).fetch(web_server.url(path))
    assert f"it is {content_type}; only HTML, plain text, Markdown and PDF are read" in str(refused.value)


async def test_missing_page_is_a_clear_message(web_server: LoopbackSite) -> None:
    with pytest.raises(FetchError) as refused:
        await make_fetcher(loopback_guard(web_server)).fetch(web_server.url("/no-such-page"))
    assert str(refused.value) == f"Could not use {web_server.url('/no-such-page')}: the server answered 404 Not Found"


async def test_closed_port_is_a_clear_message(web_server: LoopbackSite) -> None:
    guard = UrlGuard(
        allowed_ports=[9],
        resolver=StaticResolver({"news.test": ["127.0.0.1"]}),
        test_allowed_networks=["127.0.0.1/32"],
    )
    with pytest.raises(FetchError, match="could not be reached"):
        await make_fetcher(guard).fetch("http://news.test:9/")


async def test_pdf_and_markdown_are_accepted(web_server: LoopbackSite) -> None:
    fetcher = make_fetcher(loopback_guard(web_server))
    pdf = await fetcher.fetch(web_server.url("/report.pdf"))
    markdown = await fetcher.fetch(web_server.url("/ferry.md"))
    assert pdf.media_type == "application/pdf" and pdf.body.startswith(b"%PDF-")
    assert markdown.media_type == "text/markdown"


async def test_transport_refuses_a_host_the_guard_did_not_pin(web_server: LoopbackSite) -> None:
    backend = PinnedNetworkBackend()
    backend.pin("news.test", web_server.port, [ipaddress.IPv4Address("127.0.0.1")])
    async with httpx.AsyncClient(transport=PinnedTransport(backend, tls_context=_tls())) as client:
        pinned = await client.get(web_server.url("/ferry.md"))
        with pytest.raises(httpx.ConnectError, match="was not checked by the URL guard"):
            await client.get(web_server.url("/ferry.md", host="blog.test"))
    assert pinned.status_code == 200
    assert backend.connected_to == ["127.0.0.1"]


async def test_fetching_builds_no_tls_context_on_the_event_loop(
    web_server: LoopbackSite, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TLS context reads the whole CA bundle (tens of ms of CPU): the product's fetcher reuses the
    one it was given instead of building two per fetch on the loop."""
    fetcher = UrlFetcher.from_settings(settings, tls_context=_tls(), guard=loopback_guard(web_server))
    built: list[object] = []
    real = ssl.create_default_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    for path in ("/article.html", "/ferry.md", "/report.pdf"):
        await fetcher.fetch(web_server.url(path))

    assert built == []
