"""The SSRF guard: a webhook may only point at a public address, unless an operator allows it.

A URL is checked when it is registered and again before each send, since DNS answers change.
Every address a host resolves to must be global; an address inside one of the operator's
``webhook_allowed_networks`` is allowed whatever it is. Redirects are never followed, so a
public server cannot bounce a delivery inwards. (The name is resolved again by the HTTP
client; pinning the checked address would also close the DNS-rebinding window.)
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Iterable, Sequence

from ..errors import UnprocessableError

__all__ = ["TargetRefusedError", "check_target", "check_url", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefusedError(UnprocessableError):
    """Raised when a webhook URL is malformed or reaches a private, loopback, link-local or
    reserved address that no allowed network covers."""

    slug = "webhook-target-refused"
    title = "The webhook URL is not an allowed target"

    def __init__(self, detail: str, *, pointer: str = "/url") -> None:
        super().__init__(detail, errors=[{"pointer": pointer, "detail": detail}])


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDRs (``127.0.0.1/32``, ``10.0.0.0/8``, ``::1/128``). :raises ValueError:"""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def check_url(url: str) -> tuple[str, int]:
    """Check a URL's form: http(s), a host, no credentials. Return its host and port.

    :raises TargetRefusedError: when the URL cannot be a webhook target.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefusedError(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefusedError("the URL must start with https:// or http://")
    if not parts.hostname:
        raise TargetRefusedError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefusedError("the URL must not carry credentials")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _unmapped(address: Address) -> Address:
    # ::ffff:10.0.0.1 reaches 10.0.0.1: judge (and allow) it as the IPv4 address it is.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _refused(address: Address) -> bool:
    # is_global is False for private, loopback, link-local (cloud metadata), shared (CGNAT),
    # reserved and unspecified ranges; multicast can be "global" but is never a web server.
    return not address.is_global or address.is_multicast


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to. :raises TargetRefusedError: when none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # ValueError: UnicodeError (IDNA), NUL bytes
        raise TargetRefusedError(f"the host {host!r} does not resolve: {exc}") from None
    # sockaddr[0] is the address text; drop an IPv6 zone (``fe80::1%eth0``): the range
    # checks are about the address alone.
    return sorted(
        {_unmapped(ipaddress.ip_address(str(info[4][0]).partition("%")[0])) for info in infos},
        key=str,
    )


def check_target(url: str, *, allowed: Sequence[Network]) -> None:
    """Refuse ``url`` unless it is well formed and every address of its host may be called.

    :param allowed: networks permitted even though they are private or loopback.
    :raises TargetRefusedError: naming the first refused address.
    """
    host, port = check_url(url)
    for address in resolve(host, port):
        if _refused(address) and not any(address in network for network in allowed):
            raise TargetRefusedError(
                f"{host} resolves to {address}, a private, loopback, link-local or reserved "
                "address; the operator has not allowed it (webhook_allowed_networks)"
            )
