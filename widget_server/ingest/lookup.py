"""Build step: what the métier lookup needs precomputed, so that it stays a few milliseconds.

- `rome_count`: per ROME code, the trainings a search for it finds France-wide (a code
  matches items tagged with itself, its v3 parent or its v4 children, as in store/geo.py)
  and France Travail's offers for its v3 family (data/marche/): the lookup ranks by them
  so that its first suggestion finds something.
- `training_title`: the catalogue's distinct training titles with their ROME codes, how
  many trainings carry them, and the acronyms people type for them (see acronyms.py).
- `metier_group`: La Bonne Alternance's métier categories (data/rome/lba/metiers.txt),
  each with several ROME codes, and the keywords of its "domaines métiers" (2020).
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path

from widget_server.ingest.files import read_csv, read_text, resolve
from widget_server.ingest.reference import record_source
from widget_server.ingest.referentials import Referentials
from widget_server.referentials.acronyms import title_aliases
from widget_server.text import fold, words

LBA_METIERS = "rome/lba/metiers.txt"
LBA_DOMAINS = "rome/lba/domainesMetiers_2020.csv"

LOOKUP_DDL = """
CREATE TABLE rome_count (
    code      TEXT PRIMARY KEY,
    trainings INTEGER NOT NULL,     -- trainings a France-wide search for this code finds
    offers    INTEGER NOT NULL      -- France Travail offers of its v3 family (market_offer)
) WITHOUT ROWID;
CREATE TABLE training_title (
    id        INTEGER PRIMARY KEY,
    label     TEXT NOT NULL,
    level     INTEGER,
    romes     TEXT NOT NULL,        -- comma-separated, most frequent first
    trainings INTEGER NOT NULL,
    aliases   TEXT NOT NULL         -- space-separated folded acronyms ("mco btsmco bts")
);
CREATE TABLE metier_group (
    id       INTEGER PRIMARY KEY,
    label    TEXT NOT NULL,
    romes    TEXT NOT NULL,         -- comma-separated, most frequent in the source first
    keywords TEXT NOT NULL,         -- space-separated folded words
    trainings INTEGER NOT NULL      -- trainings a France-wide search for all its codes finds
);
"""

_LINE = re.compile(r"^(.*?)\s*\[([A-Z0-9,\s]*)\]\s*$")


def build_step(conn: sqlite3.Connection, data_dir: Path, refs: Referentials, scale: str) -> dict[str, str]:
    conn.executescript(LOOKUP_DDL)
    matcher = _Matcher(conn)
    counts = _rome_counts(conn, matcher)
    titles = _training_titles(conn)
    groups = _metier_groups(conn, data_dir, refs, matcher)
    return {"rome_counts": str(counts), "training_titles": str(titles), "metier_groups": str(groups)}


class _Matcher:
    """The trainings a search for some ROME codes finds France-wide."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        rome = conn.execute("SELECT code, parent FROM rome").fetchall()
        self.parent = dict(rome)
        self.children: dict[str, set[str]] = defaultdict(set)
        for code, p in rome:
            self.children[p].add(code)
        self.tagged: dict[str, set[int]] = defaultdict(set)
        for item_id, romes in conn.execute("SELECT id, romes FROM formation"):
            for code in romes.split(","):
                if code:
                    self.tagged[code].add(item_id)

    def trainings(self, codes: list[str]) -> set[int]:
        found: set[int] = set()
        for code in codes:
            p = self.parent[code]
            for c in {code, p} | (self.children[code] if code == p else set()):
                found |= self.tagged.get(c, set())
        return found


def _rome_counts(conn: sqlite3.Connection, matcher: _Matcher) -> int:
    offers = dict(conn.execute("SELECT rome, sum(offers) FROM market_offer GROUP BY rome"))
    rows = [(code, len(matcher.trainings([code])), int(offers.get(p, 0)))
            for code, p in sorted(matcher.parent.items())]
    conn.executemany("INSERT INTO rome_count VALUES (?, ?, ?)", rows)
    return len(rows)


def _training_titles(conn: sqlite3.Connection) -> int:
    by_title: dict[str, dict[str, Counter]] = {}
    for title, level, romes, diploma_type in conn.execute(
        "SELECT title, level, romes, coalesce(diploma_type, '') FROM formation ORDER BY id"
    ):
        key = fold(title)
        if not key:
            continue
        t = by_title.setdefault(key, {"label": Counter(), "level": Counter(), "romes": Counter(),
                                      "type": Counter()})
        t["label"][title] += 1
        t["level"][level] += 1
        t["romes"].update(c for c in romes.split(",") if c)
        t["type"][diploma_type] += 1
    rows = []
    for key in sorted(by_title):
        t = by_title[key]
        romes = [c for c, _ in sorted(t["romes"].items(), key=lambda kv: (-kv[1], kv[0]))]
        if not romes:
            continue
        label = min(t["label"], key=lambda s: (-t["label"][s], s))
        level = min(t["level"], key=lambda v: (-t["level"][v], v if v is not None else 99))
        diploma_type = min(t["type"], key=lambda s: (-t["type"][s], s))
        aliases = title_aliases(label, diploma_type)
        rows.append((label, level, ",".join(romes), sum(t["label"].values()), " ".join(aliases)))
    conn.executemany("INSERT INTO training_title(label, level, romes, trainings, aliases) VALUES (?,?,?,?,?)", rows)
    return len(rows)


def _metier_groups(conn: sqlite3.Connection, data_dir: Path, refs: Referentials, matcher: _Matcher) -> int:
    keywords: dict[str, set[str]] = defaultdict(set)
    n_domains = 0
    for r in read_csv(resolve(data_dir, LBA_DOMAINS)):
        n_domains += 1
        keywords[fold(r["sous_domaine"])].update(words(r["mots_cles"]))
    record_source(conn, data_dir, LBA_DOMAINS, n_domains, "La Bonne Alternance, domaines métiers 2020")
    rows = []
    lines = read_text(resolve(data_dir, LBA_METIERS)).splitlines()
    for line in lines:
        m = _LINE.match(line.strip())
        if not m:
            continue
        label = " ".join(m.group(1).replace(", ...", ", …").split())
        # Codes repeat in the source as often as they matter to the category: most repeated first.
        tally = Counter(c.strip() for c in m.group(2).split(",") if refs.is_rome(c.strip()))
        romes = [c for c, _ in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))]
        if romes:
            own = set(words(label))
            extra = sorted(keywords.get(fold(label), set()) - own)
            rows.append((label, ",".join(romes), " ".join(extra), len(matcher.trainings(romes))))
    conn.executemany("INSERT INTO metier_group(label, romes, keywords, trainings) VALUES (?, ?, ?, ?)", rows)
    record_source(conn, data_dir, LBA_METIERS, len(lines), "La Bonne Alternance, metiers.txt")
    return len(rows)
