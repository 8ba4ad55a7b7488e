"""Build step: the local job market, from France Travail and DARES aggregates (data/marche/).

- `offres_par_commune_rome_20211221.csv`: job offers open on 21 December 2021 per commune
  and ROME v3 code (325,000 rows, 925,000 offers).  The repository that published it kept
  it in a folder named "mockdata", but its totals and long tail look like a real extract:
  it is shown as "probablement réel" (see MARKET_OFFERS_NOTE in widget_server/market.py).
  Offers without a commune cannot be placed and are left out (counted in `data info`).
- `tension_bassin_rome_2021.csv`: the hiring tension indicator (1 to 5) per employment
  area (bassin BMO) and ROME v3 code, 2021, with its sub-indicators (DARES / Pôle emploi).
- `communes_bassins_bmo2019.csv`: commune -> employment area.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from widget_server.ingest.files import read_csv, resolve
from widget_server.ingest.reference import record_source
from widget_server.ingest.referentials import Referentials

OFFERS = "marche/offres_par_commune_rome_20211221.csv"
TENSION = "marche/tension_bassin_rome_2021.csv"
AREAS = "marche/communes_bassins_bmo2019.csv"


def _number(value: str) -> float | None:
    try:
        return float(value.replace(",", ".")) if value.strip() else None
    except ValueError:
        return None


def _level(value: str) -> int | None:
    number = _number(value)
    return int(number) if number is not None and 1 <= number <= 5 and number.is_integer() else None


def build_step(conn: sqlite3.Connection, data_dir: Path, refs: Referentials, scale: str) -> dict[str, str]:
    v3 = {code for (code,) in conn.execute("SELECT code FROM rome WHERE code = parent")}
    commune_ids = dict(conn.execute("SELECT insee, id FROM commune"))
    notes: Counter[str] = Counter()
    offers: Counter[tuple[str, int]] = Counter()
    rows = 0
    for r in read_csv(resolve(data_dir, OFFERS), delimiter=";"):
        rows += 1
        count = int(r["nb_offre"]) if r["nb_offre"].isdigit() else 0
        place = refs.place(r["commune"]) if r["commune"] else None
        rome = r["dc_rome_id"].strip().upper()
        if place is None:
            notes["offers_without_commune" if not r["commune"] else "offers_unknown_commune"] += count
            continue
        if rome not in v3:
            notes["offers_unknown_rome"] += count
            continue
        offers[(rome, commune_ids[place.insee])] += count
    conn.executemany("INSERT INTO market_offer VALUES (?, ?, ?)", sorted((r, c, n) for (r, c), n in offers.items()))
    record_source(conn, data_dir, OFFERS, rows, "France Travail, offres au 2021-12-21")

    areas: dict[str, str] = {}
    links = []
    n_areas = 0
    for r in read_csv(resolve(data_dir, AREAS)):
        n_areas += 1
        code, name = r["BE19"].strip(), " ".join(r["NOMBE19"].split())
        if code and name:
            areas.setdefault(code, name)
            links.append((r["CODE_COMMUNE_INSEE"].strip(), code))
    conn.executemany("INSERT INTO employment_area VALUES (?, ?)", sorted(areas.items()))
    conn.executemany("INSERT OR IGNORE INTO commune_area VALUES (?, ?)", sorted(links))
    record_source(conn, data_dir, AREAS, n_areas, "Bassins d'emploi BMO 2019")

    tension = []
    n_tension = 0
    for r in read_csv(resolve(data_dir, TENSION), delimiter=";"):
        n_tension += 1
        level, rome, area = _level(r["ind_tension_d"]), r["ROME"].strip().upper(), r["cbassin"].strip()
        if level is None or rome not in v3 or area not in areas:
            notes["tension_unusable_rows"] += 1
            continue
        tension.append((area, rome, level, _number(r["oee"]), _number(r["defm_abc"]),
                        *(_level(r[c]) for c in ("ind_int_emb_d", "ind_main_oeuvre_d", "ind_dur_empl_d",
                                                 "ind_cond_travail_d", "ind_mismatch_geo_d",
                                                 "ind_specif_form_empl_d"))))
    conn.executemany("INSERT OR IGNORE INTO market_tension VALUES (?,?,?,?,?,?,?,?,?,?,?)", sorted(tension))
    record_source(conn, data_dir, TENSION, n_tension, "DARES / Pôle emploi, tension 2021")
    return {"offers": str(sum(offers.values())), "offer_rows": str(len(offers)), "areas": str(len(areas)),
            "tension_rows": str(len(tension)), **{k: str(v) for k, v in sorted(notes.items())}}
