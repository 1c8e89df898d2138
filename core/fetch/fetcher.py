"""Fetching one URL safely: every hop checked, connected to the checked address, capped.

:class:`UrlFetcher` follows redirects itself (httpx's ``follow_redirects`` stays off) so each hop
goes through :meth:`~core.fetch.guard.UrlGuard.check` and is pinned before it is requested.  The
whole fetch, redirects included, runs under one total deadline; the body is streamed and dropped
the moment it passes ``max_bytes``; only the media types the extractors read are accepted.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import Callable
from urllib.parse import urljoin

import httpx
from pydantic import BaseModel, ConfigDict

from core.errors import (
    FetchError,
    FetchTimeoutError,
    SourceTooLargeError,
    UnsupportedContentError,
)
from core.fetch.extract import HTML_MEDIA_TYPES, PDF_MEDIA_TYPES, TEXT_MEDIA_TYPES
from core.fetch.guard import CheckedUrl, DomainPolicy, UrlGuard
from core.fetch.transport import PinnedNetworkBackend, PinnedTransport
from core.settings import Settings

__all__ = ["ACCEPTED_MEDIA_TYPES", "FetchedBody", "UrlFetcher"]

_log = logging.getLogger(__name__)

ACCEPTED_MEDIA_TYPES = HTML_MEDIA_TYPES | TEXT_MEDIA_TYPES | PDF_MEDIA_TYPES
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "autointel-bot/0.1 (+https://github.com/; article analysis)"

TransportFactory = Callable[[PinnedNetworkBackend], httpx.AsyncBaseTransport]


class FetchedBody(BaseModel):
    """A response the fetcher accepted: where it ended up, what it is, and its bytes."""

    model_config = ConfigDict(frozen=True)

    requested_url: str
    final_url: str
    media_type: str
    charset: str | None = None
    body: bytes
    redirects: int = 0
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    """A conditional request answered 304: ``body`` is empty, the caller's copy is current."""


class _Redirect(BaseModel):
    location: str


class UrlFetcher:
    """Fetches URLs through a :class:`UrlGuard`.  Holds no connections between calls.

    ``transport_factory`` makes the transport of one fetch from its pinned backend; the product's
    is :class:`PinnedTransport` over one shared TLS context (see :meth:`from_settings`).
    """

    def __init__(
        self,
        *,
        guard: UrlGuard,
        max_bytes: int,
        connect_timeout_seconds: float,
        total_timeout_seconds: float,
        max_redirects: int,
        transport_factory: TransportFactory,
    ) -> None:
        self.guard = guard
        self.max_bytes = max_bytes
        self.connect_timeout_seconds = connect_timeout_seconds
        self.total_timeout_seconds = total_timeout_seconds
        self.max_redirects = max_redirects
        self._transport_factory = transport_factory

    @classmethod
    def from_settings(
        cls, settings: Settings, *, tls_context: ssl.SSLContext, guard: UrlGuard | None = None
    ) -> UrlFetcher:
        """``tls_context`` from :func:`core.fetch.transport.tls_context`, built once (on the gate)."""
        return cls(
            guard=guard or UrlGuard(allowed_ports=settings.fetch_allowed_ports),
            max_bytes=settings.fetch_max_bytes,
            connect_timeout_seconds=settings.fetch_connect_timeout_seconds,
            total_timeout_seconds=settings.fetch_total_timeout_seconds,
            max_redirects=settings.fetch_max_redirects,
            transport_factory=functools.partial(PinnedTransport, tls_context=tls_context),
        )

    async def fetch(
        self, url: str, *, domains: DomainPolicy | None = None, etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchedBody:
        """Fetch ``url``; raises a :class:`FetchError` child with a short reason when refused.

        With ``etag`` / ``last_modified`` (from an earlier :class:`FetchedBody`) the request is
        conditional: a 304 comes back as ``not_modified=True`` with no body."""
        conditional = {key: value for key, value in (("If-None-Match", etag), ("If-Modified-Since", last_modified))
                       if value}
        backend = PinnedNetworkBackend()
        timeout = httpx.Timeout(self.total_timeout_seconds, connect=self.connect_timeout_seconds)
        async with httpx.AsyncClient(
            transport=self._transport_factory(backend),
            follow_redirects=False,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT_HEADER, **conditional},
            trust_env=False,
        ) as client:
            try:
                async with asyncio.timeout(self.total_timeout_seconds):
                    return await self._follow(client, backend, url, domains=domains)
            except (TimeoutError, httpx.TimeoutException) as exc:
                raise FetchTimeoutError(url, seconds=self.total_timeout_seconds) from exc

    async def _follow(
        self,
        client: httpx.AsyncClient,
        backend: PinnedNetworkBackend,
        url: str,
        *,
        domains: DomainPolicy | None,
    ) -> FetchedBody:
        current = url
        for hop in range(self.max_redirects + 1):
            checked = await self.guard.check(current, domains=domains)
            backend.pin(checked.parsed.host, checked.parsed.port, checked.addresses)
            outcome = await self._request(client, checked)
            if isinstance(outcome, FetchedBody):
                return outcome.model_copy(update={"requested_url": url, "redirects": hop})
            current = urljoin(checked.url, outcome.location)
            _log.debug("redirect %d: %s -> %s", hop + 1, checked.url, current)
        raise FetchError(url, f"it redirects more than {self.max_redirects} times")

    async def _request(self, client: httpx.AsyncClient, checked: CheckedUrl) -> FetchedBody | _Redirect:
        url = checked.url
        try:
            async with client.stream("GET", url) as response:
                if response.status_code == 304:
                    return FetchedBody(requested_url=url, final_url=url, media_type="", body=b"", not_modified=True,
                                       etag=response.headers.get("etag"),
                                       last_modified=response.headers.get("last-modified"))
                if response.status_code in _REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(url, "the server redirected without saying where")
                    return _Redirect(location=location)
                if response.status_code >= 400 or response.status_code < 200:
                    reason = response.reason_phrase or "error"
                    raise FetchError(url, f"the server answered {response.status_code} {reason}")
                media_type, charset = _content_type(response)
                if media_type and media_type not in ACCEPTED_MEDIA_TYPES:
                    raise UnsupportedContentError(url, media_type)
                body = await self._read_capped(response, url=url)
        except httpx.TimeoutException:
            raise
        except httpx.HTTPError as exc:
            raise FetchError(url, _network_reason(exc)) from exc
        media_type = media_type or _sniff(body)
        if media_type not in ACCEPTED_MEDIA_TYPES:
            raise UnsupportedContentError(url, media_type)
        return FetchedBody(requested_url=url, final_url=url, media_type=media_type, charset=charset, body=body,
                           etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"))

    async def _read_capped(self, response: httpx.Response, *, url: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceTooLargeError(url, limit_bytes=self.max_bytes)
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > self.max_bytes:
                raise SourceTooLargeError(url, limit_bytes=self.max_bytes)
            chunks.append(chunk)
        return b"".join(chunks)


_ACCEPT_HEADER = "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,application/pdf;q=0.8"


def _content_type(response: httpx.Response) -> tuple[str, str | None]:
    """The media type (lower-case, no parameters) and the declared charset, if any."""
    header = response.headers.get("content-type", "")
    media_type, _, parameters = header.partition(";")
    charset = None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


def _sniff(body: bytes) -> str:
    """A media type for a response that declared none: PDF or HTML by their first bytes."""
    head = body[:512].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return "application/pdf"
    if head.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    return ""


def _network_reason(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ConnectError):
        return "the server could not be reached"
    if isinstance(error, httpx.TooManyRedirects):
        return "it redirects too many times"
    if isinstance(error, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return "the server sent a broken response"
    return "the connection failed"
