"""Which URLs a webhook may be delivered to: https on a public address, never inside the network.

A webhook makes the service send a request wherever its tenant says, so the address is what matters:
private ranges (RFC 1918, unique local IPv6, shared address space), loopback, link-local and the cloud
metadata address, unspecified, multicast and reserved ranges are all refused, however the address is
written (``2852039166``, ``0251.0376.0251.0376``, ``0xa9fea9fe``, ``[::ffff:169.254.169.254]`` are all the
metadata address). IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64) are judged by that address.

These functions are pure: resolving a name is an adapter's job, and every address it finds goes through
``check_addresses`` (at configuration and again before each delivery, since names change).
Messages never name the field: the caller prefixes it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bulk_import.rules.errors import RuleError

#: Longest URL accepted.
MAX_URL_LENGTH = 2048

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # EC2, ECS and most clouds' instance metadata
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata and credentials
        ipaddress.ip_address("fd00:ec2::254"),  # EC2 instance metadata over IPv6
    }
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMBER = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


class WebhookUrlError(RuleError):
    """A webhook URL, or an address its host resolves to, that deliveries may not go to."""


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook URL as checked: scheme, host (lower case, IDNA), port, and the address it spells if any."""

    url: str
    scheme: str
    host: str
    port: int
    address: Address | None = None


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host spells the way ``inet_aton`` reads it, or None when it is not one.

    One to four parts, each decimal, octal (leading ``0``) or hexadecimal (``0x``); the last part fills
    the bytes left: ``127.1`` is ``127.0.0.1`` and ``2130706433`` too.
    """
    text = host.lower().removesuffix(".")
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.match(p) for p in parts):
        return None
    try:
        values = [_number(p) for p in parts]
    except ValueError:
        return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for v in head:
        value = value * 256 + v
    value = value * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4 or NAT64), if it carries one."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: str | Address, *, allow_loopback: bool = False) -> str | None:
    """Why deliveries may not go to ``address``, or None when it is a public address (or an allowed
    loopback one)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    inner = embedded_ipv4(ip)
    if inner is not None:
        problem = address_problem(inner, allow_loopback=allow_loopback)
        return f"{problem} (written as IPv6)" if problem else None
    if ip in _METADATA:
        return f"{ip} is the cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_unspecified:
        return f"{ip} is not an address a request can go to"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED):
        return f"{ip} is a private address"
    if ip.is_reserved or not ip.is_global:
        return f"{ip} is not a public address"
    return None


def _host(raw: str) -> tuple[str, Address | None]:
    """The host of a URL as lower-case ASCII, and the address it spells when it is an IP literal."""
    if raw.startswith("[") or ":" in raw:
        try:
            return raw.strip("[]"), ipaddress.IPv6Address(raw.strip("[]").split("%")[0])
        except ValueError:
            raise WebhookUrlError("the host is not a valid IPv6 address") from None
    v4 = parse_ipv4_literal(raw)
    if v4 is not None:
        return raw, v4
    try:
        ascii_host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise WebhookUrlError("the host is not a valid name") from None
    labels = ascii_host.removesuffix(".").split(".")
    if not all(_LABEL.match(label) for label in labels) or len(ascii_host) > 253:
        raise WebhookUrlError("the host is not a valid name")
    if labels[-1].isdigit() or _NUMBER.match(labels[-1]):
        raise WebhookUrlError("the host is neither a valid name nor an IPv4 address")
    return ascii_host, None


def parse_webhook_url(url: str, *, allow_loopback_http: bool = False) -> WebhookTarget:
    """Check a webhook URL as written: scheme, host, port, and the address when the host is an IP literal.

    Parameters
    ----------
    url
        The URL as configured.
    allow_loopback_http
        The deployment delivers to loopback addresses, over http or https (the local stack only).

    Raises
    ------
    WebhookUrlError
        The URL is malformed, not https (http: loopback on the local stack only), carries credentials,
        or its host is an address deliveries may not go to.
    """
    text = url.strip()
    if not text:
        raise WebhookUrlError("must not be empty")
    if len(text) > MAX_URL_LENGTH:
        raise WebhookUrlError(f"at most {MAX_URL_LENGTH} characters")
    if any(ord(c) < 33 or c in "\\\x7f" for c in text):
        raise WebhookUrlError("must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise WebhookUrlError("not a valid URL (check the host and port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookUrlError("must be an https URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebhookUrlError("must not carry a user name or password")
    if not parts.hostname:
        raise WebhookUrlError("must name a host")
    if port == 0:
        raise WebhookUrlError("port 0 is not a port a request can go to")
    host, address = _host(parts.hostname)
    loopback = (address is not None and _is_loopback(address)) or _is_loopback_name(host)
    if scheme == "http" and not (allow_loopback_http and loopback):
        if allow_loopback_http:
            raise WebhookUrlError("http is allowed for loopback addresses only; use https")
        raise WebhookUrlError("must be an https URL")
    if address is not None:
        problem = address_problem(address, allow_loopback=allow_loopback_http)
        if problem:
            raise WebhookUrlError(f"not allowed: {problem}")
    elif _is_loopback_name(host) and not allow_loopback_http:
        raise WebhookUrlError(f"not allowed: {host} is a loopback name")
    return WebhookTarget(
        url=text, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80), address=address
    )


def check_addresses(
    target: WebhookTarget, addresses: Iterable[str], *, allow_loopback_http: bool = False
) -> None:
    """Check every address the target's host resolves to: all must be allowed, and over http, loopback.

    Raises
    ------
    WebhookUrlError
        The name resolves to no address, or to one deliveries may not go to.
    """
    found = [ipaddress.ip_address(a.split("%")[0]) for a in addresses]
    if not found:
        raise WebhookUrlError(f"{target.host} does not resolve to any address")
    for ip in found:
        problem = address_problem(ip, allow_loopback=allow_loopback_http)
        if problem:
            which = problem.replace(" is ", ", which is ", 1)
            raise WebhookUrlError(f"not allowed: {target.host} resolves to {which}")
        if target.scheme == "http" and not _is_loopback(ip):
            raise WebhookUrlError("http is allowed for loopback addresses only; use https")


def _is_loopback(address: Address) -> bool:
    inner = embedded_ipv4(address)
    return (inner or address).is_loopback


def _is_loopback_name(host: str) -> bool:
    name = host.removesuffix(".")
    return name == "localhost" or name.endswith(".localhost")
