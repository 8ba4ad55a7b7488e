"""Demo job offers: posted by demo recruiters, for one of their ROME codes, with a real job title."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sqlite3

from widget_server.ingest.demo.common import insert_rows
from widget_server.ingest.demo.recruiters import Recruiters

WINDOW_DAYS = 60            # offers are created within the 60 days before the reference date
APPRENTICESHIP_SHARE = 0.8  # E2 apprentissage; the rest FS professionnalisation
DURATIONS = (6, 12, 12, 18, 24, 24, 24, 36)             # months, as apprenticeship contracts run
LEVELS = (None, 3, 4, 5, 6, 7)
LEVEL_WEIGHTS = (30, 25, 18, 15, 8, 4)                   # None: the offer states no diploma level
MAIN_ROME_SHARE = 0.7      # offers for the recruiter's main (market-drawn) métier
OFFER_SPREAD = 0.004        # degrees: the workplace is near the recruiter's establishment

CONTRACTS = {"E2": "contrat d'apprentissage", "FS": "contrat de professionnalisation"}
PITCHES = (
    "Vous serez accompagné(e) par un tuteur ou une tutrice tout au long de votre formation.",
    "Vous alternerez entre l'entreprise et votre centre de formation.",
    "Une équipe bienveillante vous transmettra son savoir-faire au quotidien.",
    "Poste ouvert aux débutant(e)s motivé(e)s, curieux(ses) et rigoureux(ses).",
)

COLUMNS = ("key", "title", "description", "romes", "appellation", "contract_nature", "contract_type",
           "created_at", "start_date", "duration_months", "level", "company_name", "company_siret",
           "naf", "size_band", "recruiter_key", "address", "postal_code", "city", "insee",
           "latitude", "longitude", "url", "source", "demo")


def job_titles(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """ROME code -> real job titles.  A v3 code (the mapping's) gets its own titles and
    its v4 children's, since ROME 4.0 files titles under the v4 codes."""
    titles: dict[str, list[str]] = {}
    for label, rome, parent in conn.execute(
        "SELECT a.label, a.rome, r.parent FROM appellation a JOIN rome r ON r.code = a.rome"
        " WHERE a.rare = 0 ORDER BY a.ogr"
    ):
        titles.setdefault(rome, []).append(label)
        if parent != rome:
            titles.setdefault(parent, []).append(label)
    return titles


def generate_offers(conn: sqlite3.Connection, rng: random.Random, recruiters: Recruiters,
                    count: int, today: dt.date) -> int:
    titles = job_titles(conn)
    rome_labels = dict(conn.execute("SELECT code, label FROM rome"))
    # Stronger hirers post more offers.
    posters = rng.choices(range(recruiters.count),
                          cum_weights=list(itertools.accumulate(recruiters.scores)), k=count)
    rows = []
    for n, r in enumerate(posters, start=1):
        romes = recruiters.romes[r]
        shares = recruiters.shares.get(recruiters.nafs[r], {})
        if recruiters.shaped and (len(romes) == 1 or rng.random() < MAIN_ROME_SHARE):
            rome = romes[0]   # the métier the market drew it for
        else:
            others = romes[1:] if recruiters.shaped else romes
            rome = rng.choices(others, weights=[shares.get(c, 0.0) + 1e-6 for c in others])[0]
        candidates = titles.get(rome)
        title = rng.choice(candidates) if candidates else rome_labels[rome]
        nature = "E2" if rng.random() < APPRENTICESHIP_SHARE else "FS"
        created = today - dt.timedelta(days=rng.randrange(WINDOW_DAYS))
        start = created + dt.timedelta(days=rng.randrange(14, 150))
        months = rng.choice(DURATIONS)
        level = rng.choices(LEVELS, weights=LEVEL_WEIGHTS)[0]
        lat0, lon0 = recruiters.points[r]
        lat = round(lat0 + rng.uniform(-OFFER_SPREAD, OFFER_SPREAD), 5)
        lon = round(lon0 + rng.uniform(-OFFER_SPREAD, OFFER_SPREAD), 5)
        place = recruiters.places.places[recruiters.place_index[r]]
        company = recruiters.names[r]
        description = (
            f"{company} recherche un(e) alternant(e) « {title} » à {place.name}, en {CONTRACTS[nature]} "
            f"de {months} mois à partir du {start:%d/%m/%Y}. {rng.choice(PITCHES)} "
            "Offre de démonstration : cette entreprise et cette offre n'existent pas."
        )
        rows.append((
            f"demo-offer-{n:06d}", title, description, rome, title, nature, "CDD",
            created.isoformat(), start.isoformat(), months, level, company, recruiters.sirets[r],
            recruiters.nafs[r], recruiters.bands[r], recruiters.keys[r], None, place.postal_code,
            place.name, place.insee, lat, lon, None, "demo", 1,
        ))
    return insert_rows(conn, "offer", COLUMNS, rows)
