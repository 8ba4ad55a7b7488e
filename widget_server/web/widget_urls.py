"""Addresses a partner gives the widget: return links, logos, the host page's origin.

Only what cannot run script or leave for an unexpected site passes: https
URLs (http for 127.0.0.1 and localhost, for development), paths starting with
one "/", and bare origins.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.0.0.1", "localhost")
HOST_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                     r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]")


def safe_url(value: str) -> str | None:
    """An https URL (http only for 127.0.0.1/localhost) or a path starting with one "/"; else None."""
    # Browsers drop tabs and newlines inside URLs ("java\tscript:") and read "\" as "/": refuse them all.
    if len(value) > 2000 or any(ord(c) <= 32 or c in "\\\x7f" for c in value):
        return None
    if value.startswith("/"):
        return None if value.startswith("//") else value
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme == "https" and value[:8].lower() == "https://" and host:
        return value
    if parts.scheme == "http" and value[:7].lower() == "http://" and host in LOCAL_HOSTS:
        return value
    return None


def valid_origin(value: str) -> str | None:
    """"https://host[:port]" exactly (scheme, host, port; no path), lower-cased; else None."""
    match = re.fullmatch(r"(https?)://([^/:?#@]+|\[[^\]]+\])(?::(\d{1,5}))?", value.strip(), re.IGNORECASE)
    if match is None or not HOST_RE.fullmatch(match.group(2)):
        return None
    port = match.group(3)
    if port is not None and not 0 < int(port) < 65536:
        return None
    return value.strip().lower()
