"""The SSRF guard: which webhook URLs may be called, and at which address.

A URL must be http or https with a host and no credentials. Unless
`WEBHOOK_ALLOW_PRIVATE=true`, every address its host resolves to must be a
public one: loopback, private, link-local, multicast, reserved, unspecified
and other non-global addresses (IPv4, IPv6, and IPv4 mapped into IPv6) are
refused, so an admin's token cannot be turned into a probe of the internal
network. The check runs at creation and again before every delivery, whose
connection then goes to the very address that was checked (a second DNS
answer cannot swap in an internal one).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """The URL may not be called; the message is safe to show to admins."""


def check_url(url: str) -> str:
    """The URL's host, or `UrlRefused` for a scheme or shape not allowed."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise UrlRefused("the URL must be http or https")
    if not parts.hostname:
        raise UrlRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("credentials in the URL are not allowed")
    try:
        _ = parts.port
    except ValueError:
        raise UrlRefused("the URL's port is not valid") from None
    return parts.hostname


def is_public(address: Address) -> bool:
    """Whether a webhook may be sent to this address when private ones are refused."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return is_public(address.ipv4_mapped)
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str
    host: str
    address: Address


def _ip_literal(host: str) -> Address | None:
    """The address a host that is an IP address names (no lookup, no thread)."""
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


async def _lookup(host: str) -> list[Address]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused("the URL's host does not resolve") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Check `url`, resolve its host once (without blocking the loop), check that.

    Every address the name resolves to must pass, not just the first: a
    name that mixes a public and an internal address is refused.
    """
    host = check_url(url)
    addresses = [literal] if (literal := _ip_literal(host)) else await _lookup(host)
    if not addresses:
        raise UrlRefused("the URL's host does not resolve")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise UrlRefused(
            "the URL's host resolves to a loopback, private, link-local, "
            "multicast or reserved address"
        )
    return Target(url, host, addresses[0])
