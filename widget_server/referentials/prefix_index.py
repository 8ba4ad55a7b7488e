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

    def correct(self, word: str, as_prefix: bool) -> str | None:
        """The word one edit away (a letter missing, extra, wrong or two swapped) that the
        vocabulary knows, as a whole word or, for the word being typed, as a prefix; the
        one covering the most entries (whole words first).  None for short words, where one
        edit is too much."""
        if len(word) < MIN_TYPO_LENGTH:
            return None
        best: tuple[bool, int, str] | None = None
        for variant in _one_edit(word):
            exact = len(self._exact.get(variant, ()))
            if exact:
                score = (True, exact, variant)
            elif as_prefix and self.has_prefix(variant):
                score = (False, len(self.entries_with_prefix(variant)), variant)
            else:
                continue
            if best is None or score > best:
                best = score
        return best[2] if best else None


MIN_TYPO_LENGTH = 4
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(word)
    return out
