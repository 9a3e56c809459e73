"""Ways to keep what proof needs without keeping more personal data than it needs."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress


def truncate_ip(address: str | None) -> str | None:
    """The network an address is in: /24 for IPv4, /48 for IPv6; None when it is not an address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def keyed_hash(pepper: str, value: str) -> str:
    """HMAC-SHA256 of a normalised value: lookups by email without storing the email."""
    return hmac.new(pepper.encode(), value.strip().lower().encode(), hashlib.sha256).hexdigest()
