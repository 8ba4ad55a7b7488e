"""Links that come from data (a formation's page, an offer's origin, a company's site): http(s) only.

Imported files are not trusted: a `javascript:`, `data:` or `vbscript:` URL, or a protocol-relative
`//host` one, would run script or go who knows where once a page makes it a link. The importer
drops them with a row report entry; the API never serves them, even from a dataset imported
before this check existed.
"""

from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
# Browsers drop these inside URLs ("java\tscript:" is "javascript:"), so they are removed first.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_link(value: Any) -> str | None:
    """`value` as an absolute http(s) URL with a host, control characters removed; None otherwise."""
    if not isinstance(value, str):
        return None
    url = _CONTROL.sub("", value).strip()
    if not url or len(url) > MAX_URL_LENGTH or "\\" in url[:10]:
        return None
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https") or not url[len(scheme) + 1:].startswith("//"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.hostname and " " not in parts.netloc else None


def clean_record_urls(records: Iterable[dict[str, Any]], fix: Any) -> None:
    """Drop each record's unsafe `url`, telling `fix(record, message)` so it reaches the row report."""
    for record in records:
        url = record.get("url")
        if url is None or url == "":
            continue
        safe = safe_link(url)
        if safe is None:
            record["url"] = None
            fix(record, f"adresse « {str(url)[:60]} » refusée (seules http:// et https:// sont servies) : "
                        "lien retiré, la ligne est gardée.")
        elif safe != url:
            record["url"] = safe


def clean_item_urls(body: dict[str, Any], buckets: Iterable[str]) -> None:
    """Remove unsafe `url`s from a search answer's results (all buckets, combinations' items too)."""
    for bucket in buckets:
        section = body.get(bucket) or {}
        for item in (*section.get("results", ()), *section.get("nearest", ())):
            _clean_item(item)
    for combo in body.get("combinations") or ():
        if isinstance(combo, dict):
            for value in combo.values():
                if isinstance(value, dict) and "url" in value:
                    _clean_item(value)


def _clean_item(item: Any) -> None:
    if not isinstance(item, dict):
        return
    if item.get("url") is not None:
        item["url"] = safe_link(item["url"])
    # A training's own links: its ONISEP page and its centre's website.
    details = item.get("formation") or {}
    for holder, key in ((details.get("onisep"), "url"), (details.get("contact"), "website")):
        if isinstance(holder, dict) and holder.get(key) is not None:
            holder[key] = safe_link(holder[key])
