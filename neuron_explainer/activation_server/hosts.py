"""Host names: what `--host` and `--allowed-host` accept, and the host of a Host header.

Both take a DNS name or an IP address and nothing else (a Host header may add `:port`). A lenient
parser that cut `127.0.0.1:8000@evil.example` at its last colon, or kept spaces, slashes and
userinfo, would let junk through as an allowed name; here such values are refused whole.
"""

from __future__ import annotations

import ipaddress
import re

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_HOST_HEADER = re.compile(r"(?:\[(?P<ipv6>[^\]]*)\]|(?P<name>[^:\[\]]*))(?::(?P<port>[0-9]{1,5}))?")
EXAMPLES = "e.g. 127.0.0.1, 0.0.0.0, ::1 or myhost.example"


def _is_ip(value: str, version: int | None = None) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version is None or address.version == version


def is_host(value: str) -> bool:
    """A DNS name or an IP address (IPv6 with or without brackets), in any case."""
    value = value.lower()
    if value.startswith("[") and value.endswith("]"):
        return _is_ip(value[1:-1], version=6)
    if _is_ip(value):
        return True
    if len(value) > 253 or not _NAME.fullmatch(value):
        return False
    return not value.rstrip(".").rsplit(".", 1)[-1].isdigit()  # 1.2.3.999: neither name nor IP


def check_host(value: str, what: str) -> str:
    """`value` when it is a host name or IP address; otherwise a ValueError naming `what`."""
    if not is_host(value):
        raise ValueError(
            f"{what} {value!r} is not a host name or IP address ({EXAMPLES}); give it without "
            "port, user, path or spaces"
        )
    return value


def header_host(header: str) -> str | None:
    """The host of a Host header (`name`, `1.2.3.4` or `[::1]`, each with an optional `:port`),
    in lower case, without port and brackets; None for anything else."""
    match = _HOST_HEADER.fullmatch(header.strip().lower())
    if match is None:
        return None
    if match["ipv6"] is not None:
        return match["ipv6"] if _is_ip(match["ipv6"], version=6) else None
    return match["name"] if is_host(match["name"]) else None
