"""What the reference files say about a diploma's codes: its title, level, type, ROME codes and heirs.

A training names its diploma by up to three codes: a Certif Info id (one exact
certification), a CFD (the Education ministry's code, BCN) and an RNCP code (France
compétences).  The files tie them together and say which codes replaced which:

- Certif Info (`certif_info.csv`): id -> title, type, level, CFD, RNCP, ROME codes,
  and the former id / CFD / RNCP it replaced;
- the BCN (`N_FORMATION_DIPLOME.csv`): CFD -> title, level, older and newer CFDs;
- France compétences' kits (2023 and 2025): CFD <-> RNCP, the RNCP title and level, and
  (2025) the RNCP code that replaced an old one;
- France compétences' RNCP export (January 2021): RNCP -> title, level, successor, and
  RNCP -> ROME links.

Many 2020 diplomas have since been replaced and the 2024 Certif Info file only tags
current ones with ROME codes, so a diploma without ROME codes borrows those of the
diplomas that replaced it (at most MAX_HOPS successions away).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from widget_server.ingest.catalogue.record import certif_code, cfd_code, rncp_code
from widget_server.ingest.files import read_csv, resolve
from widget_server.ingest.reference import CERTIF_INFO
from widget_server.ingest.referentials import Referentials

BCN_FORMATIONS = "diplomes/N_FORMATION_DIPLOME.csv"
BCN_LEVELS = "diplomes/N_NIVEAU_FORMATION_DIPLOME.csv"
KIT_2023 = "diplomes/Kit_apprentissage_20231218.csv"
KIT_2025 = "diplomes/Kit_apprentissage_20250131.csv"
RNCP_INFO = "diplomes/francecompetences_rncp_info_2021-01.csv"
RNCP_ROME = "diplomes/francecompetences_rncp_rome_2021-01.csv"

FILES = {
    BCN_FORMATIONS: "BCN 2024-03-19", BCN_LEVELS: "BCN 2024-03-19",
    KIT_2023: "France compétences 2023-12-18", KIT_2025: "France compétences 2025-01-31",
    RNCP_INFO: "France compétences RNCP 2021-01", RNCP_ROME: "France compétences RNCP 2021-01",
}

MAX_HOPS = 3   # successions seen in the data are 1 or 2 hops long

Node = tuple[str, str]   # ("id" | "cfd" | "rncp", code); "id" is a Certif Info id


@dataclass(frozen=True)
class Certification:
    label: str
    type_label: str
    level: int | None
    cfd: str
    rncp: str
    romes: tuple[str, ...]


@dataclass(frozen=True)
class DiplomaFacts:
    """What a training shows of its diploma, and where each part came from."""

    title: str | None
    type_label: str | None
    level: int | None
    cfd: str | None
    rncp: str | None
    romes: tuple[str, ...]
    rome_how: str            # "rome_via:certifinfo", "rome_via:successor", "no_rome:<why>"...
    title_how: str


def _level(value: str | None) -> int | None:
    """A national framework level 3..8 from "5", "05", "Niveau 5", "niveau5" (others: None)."""
    digits = re.sub(r"\D", "", value or "")
    if not digits or not 3 <= int(digits) <= 8:
        return None
    return min(int(digits), 7)   # the search offers 3..7, 7 meaning "bac+5 and above"


def _merge(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for group in groups:
        out.update(dict.fromkeys(group))
    return tuple(out)


def _bcn_title(label: str, short_type: str) -> str:
    """"MANAGEMENT COMMERCIAL OPERATIONNEL (BTS)" -> "BTS Management commercial operationnel"."""
    label = " ".join(label.split())
    m = re.match(r"^(.*?)\s*\(([^()]*)\)$", label)
    body, kind = (m.group(1), m.group(2)) if m else (label, short_type)
    body = body[:1].upper() + body[1:].lower()
    return f"{kind} {body}".strip() if kind else body


@dataclass
class Diplomas:
    certifications: dict[str, Certification] = field(default_factory=dict)
    bcn: dict[str, tuple[str, int | None]] = field(default_factory=dict)          # CFD -> (title, level)
    rncp_titles: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # RNCP -> (title, level)
    rncp_romes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    same: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))   # one diploma, two codes
    newer: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))  # code -> codes replacing it
    by_cfd: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))   # CFD -> Certif Info ids
    by_rncp: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    rows: dict[str, int] = field(default_factory=dict)   # rows read per file, for source_file
    # Certif Info id -> (CFD, RNCP) as the catalogues themselves give them, for ids the
    # Certif Info file no longer lists (retired certifications).
    seen_codes: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path, refs: Referentials) -> Diplomas:
        d = cls()
        d._load_certif_info(data_dir, refs)
        d._load_bcn(data_dir)
        d._load_kits(data_dir)
        d._load_rncp(data_dir, refs)
        return d

    def _read(self, data_dir: Path, name: str) -> list[dict[str, str]]:
        rows = list(read_csv(resolve(data_dir, name), delimiter=";"))
        self.rows[name] = len(rows)
        return rows

    def _load_certif_info(self, data_dir: Path, refs: Referentials) -> None:
        for r in self._read(data_dir, CERTIF_INFO):
            cid = certif_code(r["Code_Diplome"])
            if not cid:
                continue
            romes = [c for i in range(1, 6) if refs.is_rome(c := (r[f"Code_Rome_{i}"] or "").strip().upper())]
            cfd, rncp = cfd_code(r["Code_Scolarité"]), rncp_code(r["Code_RNCP"])
            known = self.certifications.get(cid)
            # The file repeats an id once per former diploma: merge, never overwrite.
            self.certifications[cid] = Certification(
                " ".join((r["Libelle_Diplome"] or "").split()), (r["Libelle_Type_Diplome"] or "").strip(),
                _level(r["Code_Niveau_Europeen"]), cfd, rncp,
                _merge(((known.romes if known else ()), romes)))
            if known is None:
                if cfd:
                    self.by_cfd[cfd].append(cid)
                if rncp:
                    self.by_rncp[rncp].append(cid)
            for old in (("id", certif_code(r["Code_Ancien_Diplome"])), ("cfd", cfd_code(r["Code_Ancien_Scolarité"])),
                        ("rncp", rncp_code(r["Code_Ancien_RNCP"]))):
                if old[1] and old != ("id", cid):
                    self.newer[old].add(("id", cid))

    def _load_bcn(self, data_dir: Path) -> None:
        short_types = {r["NIVEAU_FORMATION_DIPLOME"]: r["LIBELLE_COURT"].strip()
                       for r in self._read(data_dir, BCN_LEVELS)}
        for r in self._read(data_dir, BCN_FORMATIONS):
            cfd = cfd_code(r["FORMATION_DIPLOME"])
            if not cfd:
                continue
            self.bcn[cfd] = (_bcn_title(r["LIBELLE_LONG_200"], short_types.get(r["NIVEAU_FORMATION_DIPLOME"], "")),
                             _level(r.get("NIVEAU_QUALIFICATION_RNCP")))
            for i in range(1, 8):
                if new := cfd_code(r[f"NOUVEAU_DIPLOME_{i}"]):
                    self.newer[("cfd", cfd)].add(("cfd", new))
                if old := cfd_code(r[f"ANCIEN_DIPLOME_{i}"]):
                    self.newer[("cfd", old)].add(("cfd", cfd))

    def _load_kits(self, data_dir: Path) -> None:
        for name, cfd_col, rncp_col in ((KIT_2023, "Code_Diplome", "Code_RNCP"), (KIT_2025, "Code Diplôme", "FicheRNCP")):
            for r in self._read(data_dir, name):
                cfd, rncp = cfd_code(r.get(cfd_col)), rncp_code(r.get(rncp_col))
                if cfd and rncp:
                    self.same[("cfd", cfd)].add(("rncp", rncp))
                    self.same[("rncp", rncp)].add(("cfd", cfd))
                title = " ".join((r.get("Intitulé certification (RNCP)") or "").split())
                if rncp and title:
                    self.rncp_titles[rncp] = (title, _level(r.get("Niveau fiche RNCP")))
                for col, old_to_new in (("Nouvelle Certification rempla (RNCP)", True),
                                        ("Ancienne Certification (RNCP)", False)):
                    for other in (rncp_code(c) for c in (r.get(col) or "").replace(",", " ").split()):
                        if other and rncp and other != rncp:
                            old, new = (rncp, other) if old_to_new else (other, rncp)
                            self.newer[("rncp", old)].add(("rncp", new))

    def _load_rncp(self, data_dir: Path, refs: Referentials) -> None:
        for r in self._read(data_dir, RNCP_INFO):
            rncp = rncp_code(r.get("Numero_Fiche"))
            level = r.get("Nomenclature_Europe_Intitule") or ""
            if not rncp or not re.fullmatch(r"niveau[3-8]", level):
                continue   # a few rows are shifted by a stray quote: their columns cannot be trusted
            title = " ".join((r.get("Intitule") or "").split())
            abbrev = (r.get("Abrege_Code") or "").strip()
            if title and rncp not in self.rncp_titles:
                prefix = f"{abbrev} " if abbrev and abbrev.isupper() and not title.upper().startswith(abbrev) else ""
                self.rncp_titles[rncp] = (prefix + title, _level(level))
            if new := rncp_code(r.get("Nouvelle_Certification")):
                if new != rncp:
                    self.newer[("rncp", rncp)].add(("rncp", new))
        romes: dict[str, list[str]] = defaultdict(list)
        for r in self._read(data_dir, RNCP_ROME):
            rncp, rome = rncp_code(r.get("CodeRNCP")), (r.get("Rome") or "").strip().upper()
            if rncp and refs.is_rome(rome) and rome not in romes[rncp]:
                romes[rncp].append(rome)
        self.rncp_romes = {k: tuple(v) for k, v in romes.items()}

    def learn_codes(self, triples: Iterable[tuple[str, str, str]]) -> int:
        """Remember the CFD and RNCP code that source rows give with a Certif Info id unknown to
        Certif Info (the most frequent pair wins, ties by code). Returns how many ids were learnt."""
        counts: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        for certif, cfd, rncp in triples:
            if certif and certif not in self.certifications and (cfd or rncp):
                counts[certif][(cfd, rncp)] += 1
        for certif, pairs in counts.items():
            self.seen_codes[certif] = min(pairs, key=lambda p: (-pairs[p], p))
        return len(counts)

    def codes_of(self, certif: str) -> tuple[str, str]:
        """(CFD, RNCP) of a Certif Info id, from Certif Info or from what the catalogues said."""
        c = self.certifications.get(certif)
        if c is not None:
            return c.cfd, c.rncp
        return self.seen_codes.get(certif, ("", ""))

    # -- identity -----------------------------------------------------------------------------

    def identity(self, certif: str, cfd: str, rncp: str) -> frozenset[Node]:
        """Every code naming this very diploma: the given ones, the Certif Info id's own CFD and
        RNCP, and the kits' CFD <-> RNCP equivalences."""
        nodes: set[Node] = {n for n in (("id", certif), ("cfd", cfd), ("rncp", rncp)) if n[1]}
        if certif:
            own_cfd, own_rncp = self.codes_of(certif)
            nodes.update(n for n in (("cfd", own_cfd), ("rncp", own_rncp)) if n[1])
        for node in list(nodes):
            nodes.update(self.same.get(node, ()))
        return frozenset(nodes)

    def lineage(self, nodes: frozenset[Node]) -> frozenset[Node]:
        """The codes plus those of the diplomas that replaced them (up to MAX_HOPS successions)."""
        seen, frontier = set(nodes), set(nodes)
        for _ in range(MAX_HOPS):
            step = {m for n in frontier for m in self.newer.get(n, ())}
            step |= {m for n in step for m in self.same.get(n, ())}
            frontier = step - seen
            if not frontier:
                break
            seen |= frontier
        return frozenset(seen)

    # -- facts ---------------------------------------------------------------------------------

    def _romes_of(self, node: Node) -> tuple[str, ...]:
        kind, code = node
        if kind == "id":
            c = self.certifications.get(code)
            return c.romes if c else ()
        ids = (self.by_cfd if kind == "cfd" else self.by_rncp).get(code, ())
        found = _merge(self.certifications[i].romes for i in ids)
        if not found and kind == "rncp":
            found = self.rncp_romes.get(code, ())
        return found

    def _known(self, node: Node) -> bool:
        kind, code = node
        table = {"id": self.certifications, "cfd": self.bcn, "rncp": self.rncp_titles}[kind]
        return code in table or node in self.newer or node in self.same

    def romes(self, certif: str, cfd: str, rncp: str) -> tuple[tuple[str, ...], str]:
        """ROME codes of a diploma, and a note saying how they were found (or why not)."""
        start = [n for n in (("id", certif), ("cfd", cfd), ("rncp", rncp)) if n[1]]
        if not start:
            return (), "no_rome:no_diploma_code"
        # The Certif Info id names the exact certification (e.g. one speciality of a diploma
        # whose RNCP code covers three), so it goes first; then the CFD, then the RNCP code.
        for node in start:
            if found := self._romes_of(node):
                return found, f"rome_via:{'certifinfo' if node[0] == 'id' else node[0]}"
        for node in sorted(self.identity(certif, cfd, rncp) - set(start)):
            if found := self._romes_of(node):
                return found, "rome_via:equivalent_code"
        known = any(self._known(n) for n in start)
        seen, frontier = set(start), set(start)
        for _ in range(MAX_HOPS):
            step = {m for n in frontier for m in self.newer.get(n, ())}
            step |= {m for n in step for m in self.same.get(n, ())}
            frontier = step - seen
            seen |= frontier
            # When a diploma was split, all its heirs are equally its successors: merge them.
            if found := _merge(self._romes_of(n) for n in sorted(frontier)):
                return found, "rome_via:successor"
        return (), "no_rome:diploma_without_rome" if known else "no_rome:diploma_unknown"

    def describe(self, certif: str, cfd: str, rncp: str, given_title: str = "",
                 given_level: int | None = None, given_type: str = "") -> DiplomaFacts:
        """Title, type, level and ROME codes of a training's diploma, best source first."""
        c = self.certifications.get(certif)
        own_cfd, own_rncp = self.codes_of(certif) if certif else ("", "")
        cfd, rncp = cfd or own_cfd, rncp or own_rncp
        title, how = None, "title:none"
        if c is not None and c.label:
            title, how = c.label, "title:certifinfo"
        elif rncp in self.rncp_titles:
            title, how = self.rncp_titles[rncp][0], "title:rncp"
        elif given_title:
            title, how = given_title, "title:source"
        elif cfd in self.bcn:
            title, how = self.bcn[cfd][0], "title:bcn"
        levels = [lv for lv in (c.level if c else None, given_level, self.bcn.get(cfd, ("", None))[1],
                                self.rncp_titles.get(rncp, ("", None))[1]) if lv is not None]
        romes, rome_how = self.romes(certif, cfd, rncp)
        return DiplomaFacts(title, (c.type_label if c and c.type_label else given_type) or None,
                            levels[0] if levels else None, cfd or None, rncp or None, romes, rome_how, how)
