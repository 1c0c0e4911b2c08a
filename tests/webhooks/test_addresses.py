"""The SSRF guard: address classes, URL shapes, resolution of names."""

from __future__ import annotations

import ipaddress

import pytest

from backend.webhooks.addresses import UrlRefused, check_url, is_public, resolve

REFUSED = {
    "loopback v4": "127.0.0.1",
    "loopback v6": "::1",
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.16.5.4",
    "private 192.168/16": "192.168.1.1",
    "unique local v6": "fd00::1",
    "link-local v4 (cloud metadata)": "169.254.169.254",
    "link-local v6": "fe80::1",
    "multicast v4": "224.0.0.1",
    "multicast v6": "ff02::1",
    "unspecified v4": "0.0.0.0",
    "unspecified v6": "::",
    "reserved v4": "240.0.0.1",
    "shared address space": "100.64.0.1",
    "v4-mapped loopback": "::ffff:127.0.0.1",
    "v4-mapped private": "::ffff:10.0.0.1",
    "v4-mapped link-local": "::ffff:169.254.169.254",
}


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700::6810:85e5", "::ffff:93.184.215.14"]
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
async def test_resolve_refuses_a_url_on_each_address_class(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UrlRefused, match="resolves to"):
        await resolve(f"https://{host}/hook", allow_private=False)


async def test_a_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(UrlRefused, match="resolves to"):
        await resolve("http://localhost:8080/hook", allow_private=False)


async def test_allow_private_lifts_the_address_check() -> None:
    target = await resolve("http://127.0.0.1:9/hook", allow_private=True)
    assert target.address == ipaddress.ip_address("127.0.0.1")
    assert target.host == "127.0.0.1"


async def test_a_public_literal_resolves_to_itself() -> None:
    target = await resolve("https://93.184.215.14/hook", allow_private=False)
    assert str(target.address) == "93.184.215.14"


async def test_an_unresolvable_name_is_refused() -> None:
    with pytest.raises(UrlRefused, match="does not resolve"):
        await resolve("https://no-such-host.invalid/hook", allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://example.com/", "http or https"),
        ("https:///nohost", "no host"),
        ("https://user:pw@example.com/", "credentials"),
        ("https://example.com:99999/", "port"),
    ],
)
def test_bad_url_shapes_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused, match=reason):
        check_url(url)
