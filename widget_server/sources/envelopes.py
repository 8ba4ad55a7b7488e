"""Build result envelopes (widget_server.items.Item) from dataset rows."""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable, Mapping

import orjson

from widget_server.items import Item, hiring_band

# INSEE size bands ("tranche d'effectif salarié"), from data/rome_naf/effectif_labels.csv.
SIZE_BANDS = {
    "00": "0 salarié", "01": "1 ou 2 salariés", "02": "3 à 5 salariés", "03": "6 à 9 salariés",
    "11": "10 à 19 salariés", "12": "20 à 49 salariés", "21": "50 à 99 salariés",
    "22": "100 à 199 salariés", "31": "200 à 249 salariés", "32": "250 à 499 salariés",
    "41": "500 à 999 salariés", "42": "1 000 à 1 999 salariés", "51": "2 000 à 4 999 salariés",
    "52": "5 000 à 9 999 salariés", "53": "10 000 salariés et plus",
}
CONTRACT_LABELS = {"E2": "Apprentissage", "FS": "Contrat de professionnalisation"}
# What each catalogue source is, for the learner ("vu dans ...").
SOURCE_LABELS = {
    "rco_2020_11": "Catalogue de l'apprentissage (Carif-Oref), novembre 2020",
    "onisep_2023": "Catalogue de l'apprentissage 2023 (clés ONISEP)",
    "rco_2020_06": "Offre d'apprentissage des Carif-Oref, juin 2020",
    "parcoursup_2020": "Parcoursup 2020",
}
ONISEP_URL = "https://www.onisep.fr/http/redirection/formation/slug/{}"
OUTCOME_KEYS = ("scope", "label", "region", "years", "employment_6_months", "employment_12_months",
                "expected_employment_6_months", "value_added_6_months", "further_study",
                "interrupted_contracts", "leavers", "source")


class EnvelopeBuilder:
    """Turns rows of one dataset into envelopes; holds the labels it needs."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.rome_labels: dict[str, str] = dict(conn.execute("SELECT code, label FROM rome"))
        self.naf_labels: dict[str, str] = dict(conn.execute("SELECT code, label FROM naf"))

    def romes(self, codes: str) -> list[dict[str, str]]:
        return [{"code": c, "label": self.rome_labels.get(c, c)} for c in codes.split(",") if c]

    def company(self, name: Any, siret: Any, naf: Any, size_band: Any) -> dict[str, Any]:
        return {"name": name, "siret": siret, "naf_code": naf,
                "naf_label": self.naf_labels.get(naf) if naf else None,
                "size": SIZE_BANDS.get(size_band) if size_band else None}

    @staticmethod
    def place(row: Mapping[str, Any], distance: float | None, precision: str | None = None) -> dict[str, Any]:
        return {"distance_km": None if distance is None else round(distance, 1),
                "address": row["address"], "city": row["city"], "postal_code": row["postal_code"],
                "insee": row["insee"], "latitude": row["latitude"], "longitude": row["longitude"],
                "precision": precision}

    def formation(self, row: Mapping[str, Any], distance: float | None) -> Item:
        centre = self.company(row["centre_name"], row["centre_siret"], None, None)
        onisep = (row["onisep_ids"] or "").split()
        keys = (row["catalogue_keys"] or "").split()
        return {
            "type": "formation", "id": f"formation:{row['key']}", "title": row["title"],
            "place": self.place(row, distance, row["precision"]),
            "company": self.company(row["trainer_name"] or row["centre_name"],
                                    row["trainer_siret"] or row["centre_siret"], None, None),
            "romes": self.romes(row["romes"]), "diploma_level": row["level"],
            "dates": {"created_at": None, "start_date": None, "entry_periods": row["entry_periods"]},
            "url": row["url"], "demo": bool(row["demo"]), "source": row["source"],
            "formation": {"diploma": row["diploma_label"], "diploma_type": row["diploma_type"],
                          "cfd": row["cfd"], "rncp": row["rncp"], "training_centre": centre,
                          "hours": row["hours"], "capacity": row["capacity"],
                          "catalogue_key": keys[0] if keys else None,
                          "onisep": {"id": onisep[0], "url": ONISEP_URL.format(onisep[0])} if onisep else None,
                          "uai": row["uai"],
                          "intake_months": [int(m) for m in (row["intake_months"] or "").split(",") if m],
                          "periods": [p for p in (row["periods"] or "").split(",") if p],
                          "contact": {"email": row["email"], "phone": row["phone"], "website": row["website"]},
                          "qualiopi": None if row["qualiopi"] is None else bool(row["qualiopi"]),
                          "sources": self.sources(row),
                          "years_seen": [int(y) for y in (row["years"] or "").split(",") if y],
                          "outcomes": self.outcomes(row["outcomes"]),
                          "employment_rate": row["employment_rate"]},
        }

    @staticmethod
    def organisation(row: Mapping[str, Any], distance: float) -> dict[str, Any]:
        return organisation_envelope(row, distance)

    @staticmethod
    def sources(row: Mapping[str, Any]) -> list[dict[str, Any]]:
        if not row["sources"]:   # an item imported the old way: its source and no year
            return []
        return [{"source": s["source"], "label": SOURCE_LABELS.get(s["source"], s["source"]), "year": s["year"]}
                for s in orjson.loads(row["sources"])]

    @staticmethod
    def outcomes(raw: str | None) -> list[dict[str, Any]]:
        return [{k: figure.get(k) for k in OUTCOME_KEYS} for figure in orjson.loads(raw)] if raw else []

    def offer(self, row: Mapping[str, Any], distance: float | None) -> Item:
        nature = row["contract_nature"]
        return {
            "type": "offer", "id": f"offer:{row['key']}", "title": row["title"],
            "place": self.place(row, distance),
            "company": self.company(row["company_name"], row["company_siret"], row["naf"], row["size_band"]),
            "romes": self.romes(row["romes"]), "diploma_level": row["level"],
            "dates": {"created_at": row["created_at"], "start_date": row["start_date"], "entry_periods": None},
            "url": row["url"], "demo": bool(row["demo"]), "source": row["source"],
            "offer": {"contract_nature": nature, "contract_label": CONTRACT_LABELS.get(nature, nature),
                      "contract_type": row["contract_type"], "duration_months": row["duration_months"],
                      "description": row["description"], "appellation": row["appellation"]},
        }

    def recruiter(self, row: Mapping[str, Any], distance: float | None) -> Item:
        score = float(row["hiring_score"])
        return {
            "type": "recruiter", "id": f"recruiter:{row['key']}", "title": row["name"],
            "place": self.place(row, distance),
            "company": self.company(row["name"], row["siret"], row["naf"], row["size_band"]),
            "romes": self.romes(row["romes"]), "diploma_level": None,
            "dates": {"created_at": None, "start_date": None, "entry_periods": None},
            "url": row["url"], "demo": bool(row["demo"]), "source": row["source"],
            "recruiter": {"hiring_score": round(score, 1), "hiring_band": hiring_band(score),
                          "email": row["email"], "phone": row["phone"]},
        }


def organisation_envelope(row: Mapping[str, Any], distance: float) -> dict[str, Any]:
    """A training organisation offered as a contact (not a training: `type` says so)."""
    return {
        "type": "organisation", "id": f"organisation:{row['siret']}", "name": row["name"],
        "siret": row["siret"], "uai": row["uai"],
        "place": {"distance_km": round(distance, 1), "address": row["address"], "city": row["city"],
                  "postal_code": row["postal_code"], "insee": row["insee"], "latitude": row["latitude"],
                  "longitude": row["longitude"], "precision": None},
        "email": row["email"], "qualiopi": None if row["qualiopi"] is None else bool(row["qualiopi"]),
        "domains": [d for d in row["domains"].split(",") if d], "trainings": row["trainings"],
        "source": row["source"],
    }


def fetch_rows(conn: sqlite3.Connection, table: str, ids: Iterable[int]) -> dict[int, sqlite3.Row]:
    """Rows of `table` by id, in one query (ids passed as a JSON array)."""
    id_list = list(ids)
    if not id_list:
        return {}
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    rows = cursor.execute(
        f"SELECT * FROM {table} WHERE id IN (SELECT value FROM json_each(?))", (orjson.dumps(id_list).decode(),)
    ).fetchall()
    return {row["id"]: row for row in rows}
