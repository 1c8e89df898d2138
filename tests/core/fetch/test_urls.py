"""URL parsing, numeric host forms and the two URL cache keys."""

from __future__ import annotations

import ipaddress

import pytest

from core.errors import BlockedUrlError
from core.fetch.urls import normalise_url, parse_ipv4_literal, parse_url, text_fingerprint


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.1.1", "10.1.0.1"),
        ("0", "0.0.0.0"),
        ("93.184.215.14", "93.184.215.14"),
        ("127.0.0.1.", "127.0.0.1"),
    ],
)
def test_numeric_hosts_are_read_as_the_address_a_resolver_would_use(host: str, address: str) -> None:
    assert parse_ipv4_literal(host) == ipaddress.IPv4Address(address)


def test_host_names_are_not_numeric_hosts() -> None:
    assert parse_ipv4_literal("example.com") is None
    assert parse_ipv4_literal("1.2.3.example") is None


def test_numeric_host_out_of_range_is_refused_not_resolved() -> None:
    with pytest.raises(BlockedUrlError, match="not a valid one"):
        parse_url("http://256.1.1.1/")
    with pytest.raises(BlockedUrlError, match="not a valid one"):
        parse_url("http://1.2.3.4.5/")


def test_parse_url_rebuilds_a_canonical_url() -> None:
    parsed = parse_url("HTTPS://News.Example.COM:443/Path?q=1#top")
    assert parsed.url == "https://news.example.com/Path?q=1"
    assert (parsed.host, parsed.port, parsed.address) == ("news.example.com", 443, None)


def test_parse_url_turns_decimal_host_into_dotted_address() -> None:
    parsed = parse_url("http://2130706433:8080/x")
    assert parsed.url == "http://127.0.0.1:8080/x"
    assert parsed.address == ipaddress.IPv4Address("127.0.0.1")


def test_bare_www_link_is_read_as_https() -> None:
    assert parse_url("www.example.org/story").url == "https://www.example.org/story"


def test_international_host_names_become_ascii() -> None:
    assert parse_url("https://bücher.example/x").host == "xn--bcher-kva.example"


def test_normalise_url_drops_tracking_fragment_default_port_and_sorts_query() -> None:
    raw = "HTTPS://Example.COM:443/News/Story?utm_source=tw&b=2&fbclid=abc&a=1&gclid=x&mc_cid=1&mc_eid=2&ref=hn#comments"
    assert normalise_url(raw) == "https://example.com/News/Story?a=1&b=2"


def test_normalise_url_keeps_the_same_key_for_two_spellings_of_one_link() -> None:
    first = normalise_url("http://example.com/a?x=1&y=2")
    second = normalise_url("http://EXAMPLE.com:80/a?y=2&utm_campaign=spring&x=1#intro")
    assert first == second


def test_normalise_url_keeps_non_default_port_and_path_case() -> None:
    assert normalise_url("http://example.com:8080/A/b") == "http://example.com:8080/A/b"


def test_text_fingerprint_ignores_whitespace_but_not_words() -> None:
    assert text_fingerprint("Solar power  grew.\n\nWind too.") == text_fingerprint("Solar power grew. Wind too.")
    assert text_fingerprint("Solar power grew.") != text_fingerprint("Solar power fell.")
