"""Word-prefix search over a fixed list of entries: every query word must start a word of the entry.

Built once per dataset load.  The vocabulary is sorted so that the words a
prefix covers form one contiguous slice (found by bisection); the entries of the
shortest prefixes, which cover the most words, are cached because autocomplete
asks for them on every keystroke.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Iterable, Sequence

from cachetools import LRUCache


class PrefixIndex:
    def __init__(self, entry_words: Sequence[Iterable[str]], cache_size: int = 4096) -> None:
        postings: dict[str, set[int]] = {}
        for entry_id, ws in enumerate(entry_words):
            for w in ws:
                postings.setdefault(w, set()).add(entry_id)
        self._vocab = sorted(postings)
        self._postings = [frozenset(postings[w]) for w in self._vocab]
        self._exact = dict(zip(self._vocab, self._postings))
        self._cache: LRUCache[str, frozenset[int]] = LRUCache(cache_size)

    def entries_with_prefix(self, prefix: str) -> frozenset[int]:
        """Ids of the entries having a word that starts with `prefix`."""
        cached = self._cache.get(prefix)
        if cached is not None:
            return cached
        lo = bisect_left(self._vocab, prefix)
        hi = bisect_left(self._vocab, prefix + "\x7f", lo)
        if hi - lo == 1:
            found = self._postings[lo]
        else:
            found = frozenset().union(*self._postings[lo:hi])
        self._cache[prefix] = found
        return found

    def entries_with_word(self, word: str) -> frozenset[int]:
        """Ids of the entries having exactly this word."""
        return self._exact.get(word, frozenset())

    def search(self, query_words: Sequence[str]) -> set[int]:
        """Ids of the entries where every query word starts some word."""
        if not query_words:
            return set()
        sets = sorted((self.entries_with_prefix(w) for w in query_words), key=len)
        result = set(sets[0])
        for s in sets[1:]:
            result &= s
            if not result:
                break
        return result

    def has_prefix(self, prefix: str) -> bool:
        lo = bisect_left(self._vocab, prefix)
        return lo < len(self._vocab) and self._vocab[lo].startswith(prefix)

    def correct(self, word: str, as_prefix: bool, first_entry: bool = False) -> str | None:
        """The word one edit away (a letter missing, extra, wrong or two swapped) that the
        vocabulary knows, as a whole word or, for the word being typed, as a prefix; the
        one covering the most entries, or with `first_entry` the one whose best entry (the
        smallest id) is best; whole words first, then a letter typed twice or too many
        ("Mendee": Mende before Vendée), then swapped, wrong, missing.  None for short words, where one edit is
        too much."""
        if len(word) < MIN_TYPO_LENGTH:
            return None
        best: tuple[bool, int, int, str] | None = None
        for kind, variant in _one_edit(word):
            ids = self._exact.get(variant)
            if ids:
                score = (True, -kind, -min(ids) if first_entry else len(ids), variant)
            elif as_prefix and self.has_prefix(variant):
                ids = self.entries_with_prefix(variant)
                score = (False, -kind, -min(ids) if first_entry else len(ids), variant)
            else:
                continue
            if best is None or score > best:
                best = score
        return best[3] if best else None


MIN_TYPO_LENGTH = 4
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[tuple[int, str]]:
    """(kind, variant): 0 a letter removed, 1 two swapped, 2 one replaced, 3 one added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {(0, a + b[1:]) for a, b in splits if b}
    out |= {(1, a + b[1] + b[0] + b[2:]) for a, b in splits if len(b) > 1}
    out |= {(2, a + c + b[1:]) for a, b in splits if b for c in _LETTERS}
    out |= {(3, a + c + b) for a, b in splits for c in _LETTERS}
    return {(k, v) for k, v in out if v != word}
