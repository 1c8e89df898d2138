"""An httpx transport that connects only to addresses the guard checked.

httpx normally resolves the host itself when it opens a connection, which would be a second DNS
lookup after the guard's (and the door for DNS rebinding).  :class:`PinnedNetworkBackend` is an
httpcore network backend whose ``connect_tcp`` looks the host up in the pins the fetcher set from
:class:`~core.fetch.guard.CheckedUrl` and connects to those IPs; a host that was not pinned is
refused.  httpcore still sends the original ``Host`` header and uses the host name for TLS SNI and
certificate verification, because those come from the request URL, not from the socket.

Building a TLS context reads and parses the whole CA bundle: about 23 ms of CPU, several hundred
ms of wall time on a busy machine, and it ran on the event loop twice per fetch until it was
measured (see the load benchmark in docs/BENCHMARKS.md).  :func:`tls_context` builds one; the
runtime builds it once, on the worker gate, and every transport shares it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Sequence

import certifi
import httpcore
import httpx

from core.fetch.urls import IPAddress

__all__ = ["PinnedNetworkBackend", "PinnedTransport", "tls_context"]

_log = logging.getLogger(__name__)


def tls_context() -> ssl.SSLContext:
    """A client TLS context over certifi's CA bundle.  Blocking (reads the bundle): run it on the gate."""
    return ssl.create_default_context(cafile=certifi.where())


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Connects ``(host, port)`` only to the addresses pinned for it."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()
        self._pins: dict[tuple[str, int], tuple[IPAddress, ...]] = {}
        self.connected_to: list[str] = []

    def pin(self, host: str, port: int, addresses: Sequence[IPAddress]) -> None:
        self._pins[(host.strip("[]").lower(), port)] = tuple(addresses)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore backend signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._pins.get((host.strip("[]").lower(), port))
        if not addresses:
            raise httpcore.ConnectError(f"{host}:{port} was not checked by the URL guard")
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            self.connected_to.append(str(address))
            return stream
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore backend signature)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never used for fetching")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connection pool uses a :class:`PinnedNetworkBackend`.

    httpx has no public option for a network backend, so the pool it built is replaced by an
    equivalent one (same TLS context, one connection per origin, no proxies from the
    environment).  ``tests/core/fetch/test_fetcher.py`` fails loudly if an httpx upgrade breaks it.
    Both pools get ``tls_context`` (from :func:`tls_context`), so making a transport reads no file.
    """

    def __init__(self, backend: PinnedNetworkBackend, *, tls_context: ssl.SSLContext) -> None:
        super().__init__(verify=tls_context, trust_env=False)
        self.backend = backend
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls_context,
            max_connections=4,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            network_backend=backend,
        )
