"""The SSRF guard: a table of hostile URLs the default configuration must refuse, and what it allows."""

from __future__ import annotations

import httpx
import pytest

from core.errors import BlockedUrlError, FetchError
from core.fetch.fetcher import UrlFetcher
from core.fetch.guard import DomainPolicy, UrlGuard
from tests.fakes.web_server import ARTICLE_HTML, StaticResolver

PUBLIC_ADDRESS = "93.184.215.14"


def default_guard() -> UrlGuard:
    """The production configuration: ports 80/443, no allowance; only the resolver is a test one."""
    return UrlGuard(
        resolver=StaticResolver(
            {
                "public.example.com": [PUBLIC_ADDRESS],
                "news.example.com": [PUBLIC_ADDRESS],
                "intranet.example.com": ["10.0.0.5"],
                "mixed.example.com": [PUBLIC_ADDRESS, "192.168.1.10"],
                "metadata.example.com": ["169.254.169.254"],
                "v6private.example.com": ["fd00::1"],
                "mapped.example.com": ["::ffff:127.0.0.1"],
                "cgnat.example.com": ["100.64.1.1"],
            }
        )
    )


HOSTILE_URLS = [
    # numeric IPv4 forms of loopback and private addresses
    ("http://127.0.0.1/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://017700000001/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://0/", "unspecified"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://10.0.0.1/", "private"),
    ("http://192.168.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://2852039166/", "link-local"),  # 169.254.169.254 as one number
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    # IPv6 and IPv4 embedded in IPv6
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
    ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 of 169.254.169.254
    ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 of 127.0.0.1
    ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
    ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback"),  # Teredo, client 127.0.0.1
    # local names
    ("http://localhost/", "local or internal"),
    ("http://LOCALHOST./", "local or internal"),
    ("http://api.localhost/", "local or internal"),
    ("http://printer.local/", "local or internal"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local or internal"),
    # names resolving to private addresses through the test resolver
    ("http://intranet.example.com/", "private"),
    ("http://mixed.example.com/", "private"),
    ("http://metadata.example.com/", "link-local"),
    ("http://v6private.example.com/", "private"),
    ("http://mapped.example.com/", "loopback"),
    ("http://cgnat.example.com/", "carrier-grade NAT"),
    # credentials, schemes, ports, malformed
    ("http://user:pass@public.example.com/", "user name or password"),
    ("http://public.example.com@127.0.0.1/", "user name or password"),
    ("http://public.example.com\\@127.0.0.1/", "backslashes"),
    ("file:///etc/passwd", "only http and https"),
    ("ftp://public.example.com/file.txt", "only http and https"),
    ("gopher://public.example.com:70/", "only http and https"),
    ("javascript://public.example.com/%0aalert(1)", "only http and https"),
    ("data://text/plain;base64,SGVsbG8=", "only http and https"),
    ("http://public.example.com:22/", "port 22 is not allowed"),
    ("http://public.example.com:6379/", "port 6379 is not allowed"),
    ("https://public.example.com:8443/", "port 8443 is not allowed"),
    ("http://public.example.com:99999/", "malformed"),
    ("http:///no-host", "no host"),
]


@pytest.mark.parametrize(("url", "reason"), HOSTILE_URLS)
async def test_default_guard_refuses_hostile_url(url: str, reason: str) -> None:
    with pytest.raises(BlockedUrlError) as refused:
        await default_guard().check(url)
    message = str(refused.value)
    assert reason in message
    assert message.startswith("Could not use ")
    assert len(message) < 200 and "Traceback" not in message


def test_hostile_table_is_large() -> None:
    assert len(HOSTILE_URLS) >= 30


def redirecting_transport(requested: list[str]) -> httpx.MockTransport:
    """A public site (as far as the guard knows) whose /go?to=X redirects to X."""

    def answer(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.path == "/go":
            return httpx.Response(302, headers={"Location": request.url.params["to"]})
        return httpx.Response(200, text=ARTICLE_HTML, headers={"Content-Type": "text/html"})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.1/admin", "loopback"),
        ("http://169.254.169.254/latest/meta-data/iam/", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://2130706433/", "loopback"),
        ("http://localhost/", "local or internal"),
        ("http://intranet.example.com/", "private"),
        ("file:///etc/passwd", "only http and https"),
        ("http://public.example.com:6379/", "port 6379"),
    ],
)
async def test_default_fetcher_refuses_redirect_into_internal_address(target: str, reason: str) -> None:
    requested: list[str] = []
    fetcher = UrlFetcher(
        guard=default_guard(),
        max_bytes=100_000,
        connect_timeout_seconds=2,
        total_timeout_seconds=5,
        max_redirects=5,
        transport_factory=lambda backend: redirecting_transport(requested),
    )
    with pytest.raises(BlockedUrlError, match=reason):
        await fetcher.fetch(f"http://public.example.com/go?to={target}")
    assert requested == [f"http://public.example.com/go?to={target}"]


async def test_public_address_is_allowed_and_pinned() -> None:
    checked = await default_guard().check("https://News.Example.com/story?id=4")
    assert checked.url == "https://news.example.com/story?id=4"
    assert [str(address) for address in checked.addresses] == [PUBLIC_ADDRESS]


@pytest.mark.parametrize(
    "url", ["http://[2606:4700::1111]/", "http://[::ffff:93.184.215.14]/", "http://[2002:5db8:d70e::]/"]
)
async def test_public_ipv6_and_embedded_public_ipv4_are_allowed(url: str) -> None:
    checked = await default_guard().check(url)
    assert len(checked.addresses) == 1


async def test_unknown_host_is_a_clear_fetch_error() -> None:
    with pytest.raises(FetchError, match="could not be found"):
        await default_guard().check("http://nowhere.example.com/")


async def test_configured_port_is_allowed() -> None:
    guard = UrlGuard(allowed_ports=[80, 443, 8080], resolver=StaticResolver({"public.example.com": [PUBLIC_ADDRESS]}))
    checked = await guard.check("http://public.example.com:8080/")
    assert checked.parsed.port == 8080


async def test_denylist_covers_subdomains() -> None:
    domains = DomainPolicy(denylist=["example.com"])
    with pytest.raises(BlockedUrlError, match="blocked that domain"):
        await default_guard().check("https://news.example.com/", domains=domains)


async def test_allowlist_refuses_other_domains_and_accepts_subdomains() -> None:
    domains = DomainPolicy(allowlist=["*.Example.com", "https://other.org/"])
    assert domains.allowlist == ("example.com", "other.org")
    checked = await default_guard().check("https://news.example.com/a", domains=domains)
    assert checked.parsed.host == "news.example.com"
    with pytest.raises(BlockedUrlError, match=r"only allows links to: example\.com, other\.org"):
        await default_guard().check("https://notexample.com/", domains=domains)
    with pytest.raises(BlockedUrlError, match="named domains"):
        await default_guard().check(f"http://{PUBLIC_ADDRESS}/", domains=domains)


async def test_allowlist_never_opens_a_private_address() -> None:
    domains = DomainPolicy(allowlist=["example.com"])
    with pytest.raises(BlockedUrlError, match="private"):
        await default_guard().check("http://intranet.example.com/", domains=domains)


async def test_test_allowance_opens_only_the_listed_network() -> None:
    guard = UrlGuard(
        resolver=StaticResolver({"news.test": ["127.0.0.1"], "other.test": ["127.0.0.2"]}),
        test_allowed_networks=["127.0.0.1/32"],
    )
    assert (await guard.check("http://news.test/")).addresses[0].compressed == "127.0.0.1"
    with pytest.raises(BlockedUrlError, match="loopback"):
        await guard.check("http://other.test/")
    with pytest.raises(BlockedUrlError, match="loopback"):
        await guard.check("http://[::1]/")
