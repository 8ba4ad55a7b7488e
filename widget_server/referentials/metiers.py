"""Métier autocomplete: ROME fiches and their 13,120 job titles, La Bonne Alternance's métier
groupings (several ROME codes each), and the catalogue's training titles with their acronyms.

Every query word must start a word of the entry (its label, or for a diploma its acronyms
such as "mco", for a grouping its keywords).  Ranking, in order: more query words matching
whole words; entries that find trainings and offers, then one of them, then nothing; the label starting with the first query word; a fiche's main title, then
groupings, then synonyms, then diplomas; common titles before rare ones, then shorter
labels, job titles with ten times the trainings first; groupings and diplomas by how many
trainings they find.  When nothing matches, one typo
per word is tolerated ("plombierr"), and the answer says it corrected.

Counts come precomputed from the build (ingest/lookup.py); a dataset built without that
step still answers, with every count at zero.
"""

from __future__ import annotations

import heapq
import sqlite3
from dataclasses import dataclass
from typing import Any

from widget_server.referentials.prefix_index import PrefixIndex
from widget_server.text import fold, words

MAX_RESULTS = 20

# Static rank of an entry, lower first.
_PRINCIPAL, _GROUP, _SYNONYM, _DIPLOMA = 0, 1, 2, 3
_SOURCES = {_PRINCIPAL: "rome", _GROUP: "lba", _SYNONYM: "rome", _DIPLOMA: "catalogue"}
# Words too common to say anything about how well a title matches.
_STOP_WORDS = frozenset("a au aux d de des du en et l la le les un une pour sur".split())


@dataclass(frozen=True)
class MetierEntry:
    label: str
    kind: str                 # "metier" or "diplome"
    source: str               # "rome" (a fiche or job title), "lba" (a grouping), "catalogue" (a training title)
    romes: tuple[str, ...]
    level: int | None
    static_rank: int
    rare: bool
    trainings: int
    offers: int
    extra_words: tuple[str, ...]
    folded: str


def _magnitude(n: int) -> int:
    """1 to 9 trainings: 1, 10 to 99: 2...  Job titles are ordered by this, then by length:
    a title with ten times the trainings comes first, a slightly more common one does not."""
    return len(str(n)) if n else 0


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


class MetierIndex:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.rome_labels: dict[str, str] = dict(conn.execute("SELECT code, label FROM rome"))
        parent: dict[str, str] = dict(conn.execute("SELECT code, parent FROM rome"))
        trainings: dict[str, int] = {}
        offers: dict[str, int] = {}
        if _has_table(conn, "rome_count"):
            for code, n_trainings, n_offers in conn.execute("SELECT code, trainings, offers FROM rome_count"):
                trainings[code], offers[code] = n_trainings, n_offers

        def offers_of(codes: list[str]) -> int:
            # Offers are counted per v3 family: count each family once.
            return sum(offers.get(p, 0) for p in dict.fromkeys(parent.get(c, c) for c in codes))

        by_label: dict[tuple[str, str], dict[str, Any]] = {}

        def add(label: str, kind: str, romes: list[str], rank: int, rare: bool = False, level: int | None = None,
                n_trainings: int | None = None, extra: tuple[str, ...] = ()) -> None:
            key = (kind, fold(label))
            entry = by_label.get(key)
            if entry is None:
                by_label[key] = {"label": label, "kind": kind, "romes": list(romes), "level": level, "rank": rank,
                                 "rare": rare, "trainings": n_trainings, "extra": extra}
                return
            # The same title under several fiches: one entry, all their codes.
            entry["romes"].extend(r for r in romes if r not in entry["romes"])
            entry["rank"] = min(entry["rank"], rank)
            entry["rare"] = entry["rare"] and rare

        for code, label in conn.execute("SELECT code, label FROM rome WHERE is_v4 = 1 ORDER BY code"):
            add(label, "metier", [code], _PRINCIPAL)
        for label, rome, principal, rare in conn.execute(
            "SELECT label, rome, principal, rare FROM appellation ORDER BY ogr"
        ):
            add(label, "metier", [rome], _PRINCIPAL if principal else _SYNONYM, bool(rare))
        if _has_table(conn, "metier_group"):
            for label, romes, keywords, n in conn.execute(
                "SELECT label, romes, keywords, trainings FROM metier_group ORDER BY id"
            ):
                add(label, "metier", romes.split(","), _GROUP, n_trainings=n, extra=tuple(keywords.split()))
            for label, level, romes, n, aliases in conn.execute(
                "SELECT label, level, romes, trainings, aliases FROM training_title ORDER BY id"
            ):
                add(label, "diplome", romes.split(","), _DIPLOMA, level=level, n_trainings=n,
                    extra=tuple(aliases.split()))

        entries = []
        for e in by_label.values():
            n_trainings = e["trainings"]
            if n_trainings is None:   # a fiche or job title: the trainings of its code(s)
                n_trainings = max((trainings.get(c, 0) for c in e["romes"]), default=0)
            entries.append(MetierEntry(e["label"], e["kind"], _SOURCES[e["rank"]], tuple(e["romes"]), e["level"],
                                       e["rank"], e["rare"], n_trainings, offers_of(e["romes"]), e["extra"],
                                       fold(e["label"])))
        # Entry ids follow the static order, so that within a group of equally good matches
        # the smallest ids are the best ones (compared in C, not Python).
        # Between job titles with as many trainings (same magnitude), the one with more offers
        # first: "Mécanicien automobile" before "Mécanicien avion", the IDE before the school nurse.
        entries.sort(key=lambda e: (e.static_rank, e.rare, -_magnitude(e.trainings) if e.static_rank in (
            _PRINCIPAL, _SYNONYM) else -e.trainings, -_magnitude(e.offers), len(e.label), e.folded, e.kind))
        self.entries = entries
        self.index = PrefixIndex([*words(e.label), *e.extra_words] for e in entries)
        self.first_word_index = PrefixIndex(words(e.label)[:1] for e in entries)
        # A job title that is exactly what was typed ("pâtissier" -> "Pâtissier / Pâtissière") comes
        # first, whatever the counts of longer titles sharing its words.
        self.exact: dict[str, int] = {}
        for i, e in enumerate(entries):
            forms = e.label.split(" / ")
            # "Pâtissier / Pâtissière" is exactly "pâtissier"; "Pâtissier / Pâtissière de restaurant" is not.
            if len(forms) <= 2 and len({len(words(f)) for f in forms}) == 1:
                self.exact.setdefault(" ".join(words(forms[0])), i)
        # What choosing an entry finds: trainings and offers, one of them, nothing.
        self.finds_all = frozenset(i for i, e in enumerate(entries) if e.trainings and e.offers)
        self.finds_some = frozenset(i for i, e in enumerate(entries) if e.trainings or e.offers) - self.finds_all

    def search(self, query: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
        """The best entries for what was typed, without typo correction."""
        return [self._as_result(self.entries[i]) for i in self._ranked(words(query), limit)]

    def suggest(self, query: str, limit: int = MAX_RESULTS) -> tuple[list[dict[str, Any]], str | None]:
        """Like search, but when nothing matches, tolerate one typo per word.
        Returns the results and the corrected query (None when nothing was corrected)."""
        qwords = words(query)
        found = self._ranked(qwords, limit)
        corrected = None
        if not found and qwords:
            fixed = [w if self.index.has_prefix(w) else (self.index.correct(w, i == len(qwords) - 1) or w)
                     for i, w in enumerate(qwords)]
            if fixed != qwords:
                found = self._ranked(fixed, limit)
                corrected = " ".join(fixed) if found else None
        return [self._as_result(self.entries[i]) for i in found], corrected

    def _ranked(self, qwords: list[str], limit: int) -> list[int]:
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
        exact = self.exact.get(" ".join(qwords))
        if exact is not None and exact in candidates:
            best.append(exact)
            candidates = candidates - {exact}
            groups = {n: g - {exact} for n, g in groups.items()}
        for n in sorted(groups, reverse=True):
            group = groups[n]
            all_, some = group & self.finds_all, group & self.finds_some
            for tier in (all_, some, group - all_ - some):
                for part in (tier & starting, tier - starting):
                    best.extend(heapq.nsmallest(limit - len(best), part))
                    if len(best) >= limit:
                        return best
        return best

    def _as_result(self, e: MetierEntry) -> dict[str, Any]:
        result: dict[str, Any] = {
            "label": e.label,
            "kind": e.kind,
            "source": e.source,
            "romes": [{"code": c, "label": self.rome_labels.get(c, c)} for c in e.romes],
            "trainings": e.trainings,
            "offers": e.offers,
        }
        if e.kind == "diplome":
            result["level"] = e.level
        return result
