"""Métier autocomplete: ROME fiches, their 13,120 job titles and the diplomas leading to them.

Ranking, in order: more query words matching whole words; the label starting
with the first query word; a fiche's main title before its synonyms, métiers
before diplomas; common titles before rare ones; shorter labels first.
"""

from __future__ import annotations

import heapq
import sqlite3
from dataclasses import dataclass
from typing import Any

from widget_server.referentials.prefix_index import PrefixIndex
from widget_server.text import fold, words

MAX_RESULTS = 20

# Static rank of an entry, lower first: (principal métier, synonym, diploma).
_PRINCIPAL, _SYNONYM, _DIPLOMA = 0, 1, 2
# Words too common to say anything about how well a title matches.
_STOP_WORDS = frozenset("a au aux d de des du en et l la le les un une pour sur".split())


@dataclass(frozen=True)
class MetierEntry:
    label: str
    kind: str                 # "metier" or "diplome"
    romes: tuple[str, ...]
    level: int | None
    static_rank: int
    rare: bool
    folded: str


class MetierIndex:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.rome_labels: dict[str, str] = dict(conn.execute("SELECT code, label FROM rome"))
        by_label: dict[tuple[str, str], dict[str, Any]] = {}

        def add(label: str, kind: str, romes: list[str], level: int | None, rank: int, rare: bool) -> None:
            key = (kind, fold(label))
            entry = by_label.get(key)
            if entry is None:
                by_label[key] = {"label": label, "kind": kind, "romes": list(romes), "level": level,
                                 "rank": rank, "rare": rare}
                return
            # The same title under several fiches (or diplomas): one entry, all their codes.
            entry["romes"].extend(r for r in romes if r not in entry["romes"])
            entry["rank"] = min(entry["rank"], rank)
            entry["rare"] = entry["rare"] and rare
            if level is not None and (entry["level"] is None or level < entry["level"]):
                entry["level"] = level

        for code, label in conn.execute("SELECT code, label FROM rome WHERE is_v4 = 1 ORDER BY code"):
            add(label, "metier", [code], None, _PRINCIPAL, False)
        for label, rome, principal, rare in conn.execute(
            "SELECT label, rome, principal, rare FROM appellation ORDER BY ogr"
        ):
            add(label, "metier", [rome], None, _PRINCIPAL if principal else _SYNONYM, bool(rare))
        for label, level, romes in conn.execute(
            "SELECT label, level, romes FROM diploma"
            " WHERE romes != '' AND level BETWEEN 3 AND 7 ORDER BY id"
        ):
            add(label, "diplome", romes.split(","), level, _DIPLOMA, False)

        entries = [
            MetierEntry(e["label"], e["kind"], tuple(e["romes"]), e["level"], e["rank"], e["rare"],
                        fold(e["label"]))
            for e in by_label.values()
        ]
        # Entry ids follow the static order, so that within a group of equally
        # good matches the smallest ids are the best ones (compared in C, not Python).
        entries.sort(key=lambda e: (e.static_rank, e.rare, len(e.label), e.folded, e.kind))
        self.entries = entries
        self.index = PrefixIndex(words(e.label) for e in entries)
        self.first_word_index = PrefixIndex(words(e.label)[:1] for e in entries)

    def search(self, query: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
        qwords = words(query)
        candidates = self.index.search(qwords)
        if not candidates:
            return []
        # How many query words each candidate has as a whole word.
        counts: dict[int, int] = {}
        for w in dict.fromkeys(qwords):
            if w in _STOP_WORDS:
                continue
            for i in self.index.entries_with_word(w) & candidates:
                counts[i] = counts.get(i, 0) + 1
        groups: dict[int, set[int]] = {}
        for i, n in counts.items():
            groups.setdefault(n, set()).add(i)
        groups[0] = candidates.difference(counts)
        starting = self.first_word_index.entries_with_prefix(qwords[0])
        best: list[int] = []
        for n in sorted(groups, reverse=True):
            group = groups[n]
            for part in (group & starting, group - starting):
                best.extend(heapq.nsmallest(limit - len(best), part))
                if len(best) >= limit:
                    return [self._as_result(self.entries[i]) for i in best]
        return [self._as_result(self.entries[i]) for i in best]

    def _as_result(self, e: MetierEntry) -> dict[str, Any]:
        result: dict[str, Any] = {
            "label": e.label,
            "kind": e.kind,
            "romes": [{"code": c, "label": self.rome_labels.get(c, c)} for c in e.romes],
        }
        if e.kind == "diplome":
            result["level"] = e.level
        return result
