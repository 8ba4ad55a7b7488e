"""Text normalisation shared by every lookup: accents, case, punctuation."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Abbreviations people type for commune names; applied to whole words only.
PLACE_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


class _FoldTable(dict):
    """Character -> its compatibility decomposition without combining marks, filled as met.

    Per character is the same as per string: NFKD decomposes each character on its own and only
    reorders combining marks, which are dropped.  str.translate with this table folds a text in C
    instead of a Python loop over its characters (the referentials' 150,000 names load 3 times
    faster).  Bounded, since visitors may type any character."""

    def __missing__(self, code: int) -> str:
        value = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if len(self) < 20_000:
            self[code] = value
        return value


_FOLD = _FoldTable({ord("œ"): "oe", ord("Œ"): "oe", ord("æ"): "ae", ord("Æ"): "ae"})


def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures, turn punctuation into spaces."""
    return _NON_ALNUM.sub(" ", text.translate(_FOLD).lower()).strip()


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    folded = fold(text)
    return folded.split() if folded else []


def place_words(text: str) -> list[str]:
    """Words of a place name with "st"/"ste" read as "saint"/"sainte"."""
    return [PLACE_ABBREVIATIONS.get(w, w) for w in words(text)]
