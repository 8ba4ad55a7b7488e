"""Text normalisation shared by every lookup: accents, case, punctuation."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Abbreviations people type for commune names; applied to whole words only.
PLACE_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures, turn punctuation into spaces."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", ascii_only.lower()).strip()


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    folded = fold(text)
    return folded.split() if folded else []


def place_words(text: str) -> list[str]:
    """Words of a place name with "st"/"ste" read as "saint"/"sainte"."""
    return [PLACE_ABBREVIATIONS.get(w, w) for w in words(text)]
