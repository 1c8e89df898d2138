"""Reading a URL the way the fetcher will use it, and the cache keys derived from it.

:func:`parse_url` is strict on purpose: it refuses anything the fetcher should never request
(other schemes, credentials, odd characters) and turns every numeric host form a resolver would
accept (``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``) into the address it really is, so
the SSRF guard judges the same address the socket would reach.  The URL it returns is rebuilt from
the parsed parts, so the HTTP client cannot read it differently.

:func:`normalise_url` and :func:`text_fingerprint` are the two cache keys for URL sources: the
normalised URL for an exact hit before any fetch, the text fingerprint for the same article
published at two addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from core.errors import BlockedUrlError

__all__ = [
    "IPAddress",
    "ParsedUrl",
    "is_tracking_parameter",
    "normalise_url",
    "parse_ipv4_literal",
    "parse_url",
    "text_fingerprint",
    "url_list_key",
]

_log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048

_TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "_hsenc", "_hsmi", "mkt_tok", "spm",
        "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "cmpid",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_FORBIDDEN_URL_CHARS = re.compile(r"[\s\\\x00-\x1f\x7f]")
_NUMERIC_PART = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


class ParsedUrl(BaseModel):
    """A URL the guard may check: scheme, ASCII host, explicit port, and the rebuilt URL."""

    model_config = ConfigDict(frozen=True)

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress | None = None

    @property
    def host_port(self) -> tuple[str, int]:
        return self.host, self.port


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host means (inet_aton rules), or ``None`` for a host name.

    Accepts one to four parts, each decimal, octal (leading ``0``) or hex (``0x``); the last part
    fills the remaining bytes, so ``127.1`` is ``127.0.0.1`` and ``2130706433`` is too.  A host
    whose parts are all numeric but out of range is not a name either: it raises ``ValueError``.
    """
    parts = host.rstrip(".").split(".")
    if not parts or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    if len(parts) > 4:
        raise ValueError(f"{host!r} has too many numeric parts")
    values = [_parse_ipv4_part(part) for part in parts]
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(values)):
        raise ValueError(f"{host!r} is out of range")
    number = last
    for position, value in enumerate(leading):
        number += value << (8 * (3 - position))
    return ipaddress.IPv4Address(number)


def _parse_ipv4_part(part: str) -> int:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part, 10)


def parse_url(raw: str) -> ParsedUrl:
    """Parse and rebuild ``raw``; raises :class:`BlockedUrlError` for anything not fetchable.

    A bare ``www.example.com/...`` is read as ``https://``.
    """
    text = raw.strip()
    if text.lower().startswith("www."):
        text = "https://" + text
    if len(text) > MAX_URL_LENGTH:
        raise BlockedUrlError(text[:80] + "…", f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _FORBIDDEN_URL_CHARS.search(text):
        raise BlockedUrlError(text, "the URL contains spaces, backslashes or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise BlockedUrlError(text, "the URL is malformed") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedUrlError(text, "only http and https links can be fetched")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BlockedUrlError(text, "links with a user name or password are not fetched")
    host, address = _parse_host(parts.hostname or "", url=text)
    port = port if port is not None else DEFAULT_PORTS[scheme]
    url = urlunsplit((scheme, _netloc(scheme, host, port), parts.path or "/", parts.query, ""))
    return ParsedUrl(url=url, scheme=scheme, host=host, port=port, address=address)


def _parse_host(hostname: str, *, url: str) -> tuple[str, IPAddress | None]:
    """The ASCII host and, for a numeric host, its address.  ``hostname`` is already lower-case."""
    if not hostname:
        raise BlockedUrlError(url, "the URL has no host name")
    if ":" in hostname:
        try:
            address6 = ipaddress.IPv6Address(hostname.split("%", 1)[0])
        except ValueError as exc:
            raise BlockedUrlError(url, "the URL has an invalid IPv6 address") from exc
        return str(address6), address6
    try:
        address4 = parse_ipv4_literal(hostname)
    except ValueError as exc:
        raise BlockedUrlError(url, "the host looks like an IP address but is not a valid one") from exc
    if address4 is not None:
        return str(address4), address4
    try:
        ascii_host = hostname.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise BlockedUrlError(url, "the host name is not valid") from exc
    if not ascii_host or not all(_HOST_LABEL.match(label) for label in ascii_host.split(".")):
        raise BlockedUrlError(url, "the host name is not valid")
    return ascii_host, None


def _netloc(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if DEFAULT_PORTS[scheme] == port else f"{shown}:{port}"


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMETERS or lowered.startswith(_TRACKING_PREFIXES)


def normalise_url(raw: str) -> str:
    """The exact-hit cache key of a URL.

    Lower-case scheme and host, default port dropped, no fragment, tracking parameters
    (``utm_*``, ``fbclid``, ``gclid``, ``mc_cid``, ``ref``...) removed, remaining query parameters
    sorted.  The path keeps its case: servers may treat it as case-sensitive.  Raises
    :class:`BlockedUrlError` for a URL :func:`parse_url` refuses.
    """
    parsed = parse_url(raw)
    parts = urlsplit(parsed.url)
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_parameter(name)
    )
    return urlunsplit((parsed.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


def text_fingerprint(text: str) -> str:
    """SHA-256 (hex) of ``text`` with whitespace collapsed: the same article at two addresses
    (or re-wrapped differently) gets the same fingerprint."""
    collapsed = " ".join(text.split())
    return hashlib.sha256(collapsed.encode("utf-8")).hexdigest()


def url_list_key(urls: list[str]) -> str | None:
    """The exact cache key of a request made only of URLs: their normalised forms, in order.

    ``None`` when a URL cannot be parsed (the fetch will say why).
    """
    try:
        return "urls:" + " ".join(normalise_url(url) for url in urls)
    except BlockedUrlError:
        return None
