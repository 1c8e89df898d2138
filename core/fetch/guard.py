"""The server-side request forgery guard: which URLs the bot may request, and at which address.

Any member of any server can make the bot fetch a URL, so every hop of every fetch goes through
:meth:`UrlGuard.check` before a socket opens: scheme and credentials (in :func:`parse_url`), port,
the guild's domain allow and deny lists, then the host is resolved once and refused if ANY of its
addresses is not a public unicast address (IPv4 or IPv6, embedded IPv4 forms included).  The
checked addresses are returned so the transport connects to exactly them: no second lookup, so a
DNS answer that changes between check and connect (rebinding) cannot reach an internal address.

``test_allowed_networks`` is the one way past the address rule.  It exists for the loopback test
server; no setting exposes it, so production code cannot turn it on from configuration.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import BlockedUrlError, FetchError
from core.fetch.urls import IPAddress, ParsedUrl, parse_url

__all__ = [
    "CheckedUrl",
    "DomainPolicy",
    "Resolver",
    "SystemResolver",
    "UrlGuard",
    "address_refusal",
]

_log = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class Resolver(Protocol):
    """Turns a host name into the addresses a connection could use."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]: ...


class SystemResolver:
    """The operating system's resolver, through the running loop's ``getaddrinfo``."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


class CheckedUrl(BaseModel):
    """A URL that passed every check, with the addresses the connection must use."""

    model_config = ConfigDict(frozen=True)

    parsed: ParsedUrl
    addresses: tuple[IPAddress, ...]

    @property
    def url(self) -> str:
        return self.parsed.url


def _domain_entry(entry: str) -> str:
    cleaned = entry.strip().lower().lstrip("*").strip(".")
    if "://" in cleaned:
        cleaned = cleaned.split("://", 1)[1]
    cleaned = cleaned.split("/", 1)[0].split(":", 1)[0]
    try:
        return cleaned.encode("idna").decode("ascii")
    except UnicodeError:
        return cleaned


class DomainPolicy(BaseModel):
    """A guild's domain lists.  An entry covers the domain and every subdomain of it.

    An empty allowlist allows every domain; the denylist always wins.  The lists narrow what the
    address rules allow; they never widen it.
    """

    model_config = ConfigDict(frozen=True)

    allowlist: tuple[str, ...] = Field(default=())
    denylist: tuple[str, ...] = Field(default=())

    @field_validator("allowlist", "denylist", mode="before")
    @classmethod
    def _normalise(cls, entries: Iterable[str]) -> tuple[str, ...]:
        return tuple(entry for entry in (_domain_entry(raw) for raw in entries) if entry)

    def refusal(self, host: str) -> str | None:
        """Why ``host`` is refused by the lists, or ``None``."""
        if any(_covers(entry, host) for entry in self.denylist):
            return "this server's admins have blocked that domain"
        if self.allowlist and not any(_covers(entry, host) for entry in self.allowlist):
            return "this server only allows links to: " + ", ".join(self.allowlist)
        return None


def _covers(entry: str, host: str) -> bool:
    return host == entry or host.endswith("." + entry)


def address_refusal(address: IPAddress) -> str | None:
    """Why the bot must not connect to ``address``, or ``None`` for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = address_refusal(embedded)
            if reason is not None:
                return f"{reason} (embedded in an IPv6 address)"
            if address.ipv4_mapped is not None or address in _IPV4_COMPATIBLE:
                return None
    return _plain_refusal(address)


def _plain_refusal(address: IPAddress) -> str | None:
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address (such as cloud metadata)"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "a carrier-grade NAT address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "a site-local address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private network address"),
        (not address.is_global, "an address that is not publicly routable"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64, compatible)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        server, client = address.teredo
        return client if _plain_refusal(client) else server
    if any(address in network for network in _NAT64) or (
        address in _IPV4_COMPATIBLE and int(address) > 1
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class UrlGuard:
    """Decides whether a URL may be fetched and pins the addresses to connect to."""

    def __init__(
        self,
        *,
        allowed_ports: Sequence[int] = (80, 443),
        resolver: Resolver | None = None,
        test_allowed_networks: Sequence[IPNetwork | str] = (),
    ) -> None:
        self.allowed_ports = frozenset(allowed_ports)
        self._resolver: Resolver = resolver or SystemResolver()
        self._test_allowed_networks = tuple(ipaddress.ip_network(net) for net in test_allowed_networks)
        if self._test_allowed_networks:
            _log.warning("URL guard allows %s: test-only setting", self._test_allowed_networks)

    async def check(self, url: str, *, domains: DomainPolicy | None = None) -> CheckedUrl:
        """Return the checked URL and its addresses; raise :class:`BlockedUrlError` if refused."""
        parsed = parse_url(url)
        if parsed.port not in self.allowed_ports:
            allowed = ", ".join(str(port) for port in sorted(self.allowed_ports))
            raise BlockedUrlError(parsed.url, f"port {parsed.port} is not allowed (only {allowed})")
        self._check_name(parsed, domains or DomainPolicy())
        addresses = await self._addresses(parsed)
        for address in addresses:
            reason = self._refusal(address)
            if reason is not None:
                raise BlockedUrlError(parsed.url, f"the host points to {reason}, which is not allowed")
        return CheckedUrl(parsed=parsed, addresses=tuple(addresses))

    def _check_name(self, parsed: ParsedUrl, domains: DomainPolicy) -> None:
        if parsed.address is None and (
            parsed.host in _LOCAL_NAMES or parsed.host.endswith(_LOCAL_SUFFIXES)
        ):
            raise BlockedUrlError(parsed.url, "links to local or internal host names are not fetched")
        if parsed.address is not None and domains.allowlist:
            raise BlockedUrlError(parsed.url, "this server only allows links to named domains")
        reason = domains.refusal(parsed.host)
        if reason is not None:
            raise BlockedUrlError(parsed.url, reason)

    async def _addresses(self, parsed: ParsedUrl) -> list[IPAddress]:
        if parsed.address is not None:
            return [parsed.address]
        try:
            addresses = await self._resolver.resolve(parsed.host, parsed.port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(parsed.url, "the host name could not be found") from exc
        if not addresses:
            raise FetchError(parsed.url, "the host name could not be found")
        return addresses

    def _refusal(self, address: IPAddress) -> str | None:
        if any(address in network for network in self._test_allowed_networks):
            return None
        return address_refusal(address)
