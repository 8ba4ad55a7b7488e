"""The embedded dataset's SQLite schema: one place that says what a dataset holds.

Items (formations, offers, recruiters) each have a main table and a 3-D R*Tree
whose first dimension is the ROME *family* (the v3 parent code as a number) and
whose other two are latitude and longitude.  One R*Tree row per (item, ROME
code) lets "this ROME family within R km of this point" be answered by a single
index probe; the exact code and the item id ride along as auxiliary columns.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

REFERENCE_DDL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE source_file (
    name    TEXT PRIMARY KEY,   -- path under data/ (or the imported file's name)
    sha256  TEXT NOT NULL,
    rows    INTEGER NOT NULL,
    version TEXT NOT NULL       -- release named by the source (e.g. "ROME v460")
);
CREATE TABLE rome (
    code               TEXT PRIMARY KEY,   -- a letter and 4 digits, v3 or v4
    label              TEXT NOT NULL,
    parent             TEXT NOT NULL,      -- its v3 code (itself for a v3 code)
    family             INTEGER NOT NULL,   -- parent as a number, see rome_family()
    is_v4              INTEGER NOT NULL,
    domain_code        TEXT,
    domain_label       TEXT,
    grand_domain_code  TEXT,
    grand_domain_label TEXT
);
CREATE INDEX rome_parent ON rome(parent);
CREATE TABLE appellation (
    ogr         INTEGER PRIMARY KEY,
    label       TEXT NOT NULL,
    short_label TEXT NOT NULL,
    rome        TEXT NOT NULL REFERENCES rome(code),
    principal   INTEGER NOT NULL,   -- 1 for the fiche's main title, 0 for a synonym
    rare        INTEGER NOT NULL    -- ROME's "peu usité" flag
);
CREATE INDEX appellation_rome ON appellation(rome);
CREATE TABLE diploma (
    id         TEXT PRIMARY KEY,    -- Certif Info code
    label      TEXT NOT NULL,
    type_label TEXT NOT NULL,
    level      INTEGER,             -- national framework level 3..8 (NULL if unknown)
    cfd        TEXT,
    rncp       TEXT,                -- "RNCP12345"
    romes      TEXT NOT NULL        -- comma-separated ROME codes, may be empty
);
CREATE INDEX diploma_cfd ON diploma(cfd);
CREATE INDEX diploma_rncp ON diploma(rncp);
CREATE TABLE commune (
    id           INTEGER PRIMARY KEY,
    insee        TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    postal_codes TEXT NOT NULL,     -- space-separated
    dept_code    TEXT NOT NULL,
    dept_name    TEXT NOT NULL,
    region_code  TEXT,
    region_name  TEXT,
    population   INTEGER NOT NULL,
    latitude     REAL NOT NULL,
    longitude    REAL NOT NULL,
    kind         TEXT NOT NULL      -- "commune" or "arrondissement" (Paris, Lyon, Marseille)
);
CREATE VIRTUAL TABLE commune_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);
CREATE TABLE commune_alias (          -- former and delegated communes still used by sources
    insee        TEXT PRIMARY KEY,
    commune      TEXT NOT NULL         -- INSEE code of the current commune
) WITHOUT ROWID;
CREATE TABLE naf (
    code  TEXT PRIMARY KEY,
    label TEXT NOT NULL
);
CREATE TABLE naf_rome (
    naf     TEXT NOT NULL,
    rome    TEXT NOT NULL,          -- v3 code, as in La Bonne Boite's mapping
    hirings INTEGER NOT NULL,
    share   REAL NOT NULL,          -- hirings / all hirings of the NAF
    PRIMARY KEY (naf, rome)
) WITHOUT ROWID;
"""

# The local job market (ingest/market.py): France Travail's offers per commune and ROME v3
# code, and the hiring tension per employment area (bassin BMO) and ROME v3 code.
MARKET_DDL = """
CREATE TABLE market_offer (
    rome       TEXT NOT NULL,          -- ROME v3 code
    commune_id INTEGER NOT NULL,       -- commune.id
    offers     INTEGER NOT NULL,
    PRIMARY KEY (rome, commune_id)
) WITHOUT ROWID;
CREATE TABLE employment_area (
    code TEXT PRIMARY KEY,             -- BE19 code
    name TEXT NOT NULL
);
CREATE TABLE commune_area (
    insee TEXT PRIMARY KEY,
    area  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE market_tension (
    area                 TEXT NOT NULL,
    rome                 TEXT NOT NULL,   -- ROME v3 code
    level                INTEGER NOT NULL, -- 1 (little tension) .. 5 (very hard to recruit)
    offers               REAL,            -- offers registered in the year (average per quarter)
    job_seekers          REAL,            -- job seekers (categories A, B, C)
    hiring_intensity     INTEGER,
    labour_shortage      INTEGER,
    lasting_jobs         INTEGER,
    working_conditions   INTEGER,
    geographic_mismatch  INTEGER,
    training_specificity INTEGER,
    PRIMARY KEY (area, rome)
) WITHOUT ROWID;
"""
REFERENCE_DDL += MARKET_DDL

ITEMS_DDL = """
CREATE TABLE formation (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,   -- stable id from the source
    title         TEXT NOT NULL,
    diploma_label TEXT,
    diploma_type  TEXT,
    level         INTEGER,                -- 3..7
    cfd           TEXT,
    rncp          TEXT,
    romes         TEXT NOT NULL,          -- comma-separated ROME codes
    centre_name   TEXT,
    centre_siret  TEXT,
    trainer_name  TEXT,
    trainer_siret TEXT,
    address       TEXT,
    postal_code   TEXT,
    city          TEXT,
    insee         TEXT,
    latitude      REAL NOT NULL,
    longitude     REAL NOT NULL,
    entry_periods TEXT,                   -- as given by the source (free text)
    hours         INTEGER,
    capacity      INTEGER,
    url           TEXT,
    source        TEXT NOT NULL,
    demo          INTEGER NOT NULL,
    -- The merged catalogue (ingest/catalogue): NULL where a source has nothing to say.
    uai             TEXT,                 -- the training organisation's UAI
    catalogue_keys  TEXT,                 -- space-separated cle_ministere_educatif
    onisep_ids      TEXT,                 -- space-separated ONISEP "AF." ids
    intake_months   TEXT,                 -- comma-separated months 1..12
    periods         TEXT,                 -- comma-separated YYYY-MM intakes, as the sources dated them
    email           TEXT,                 -- the training's contact (a role or institution address)
    phone           TEXT,
    website         TEXT,
    qualiopi        INTEGER,              -- the organisation's Qualiopi certification (NULL: unknown)
    precision       TEXT,   -- 'site', 'organisation' or 'commune' (NULL: not said by the source)
    sources         TEXT,                 -- JSON [{"source", "year", "id"}]: where it was seen
    years           TEXT,                 -- comma-separated years it was seen
    outcomes        TEXT,                 -- JSON [InserJeunes figures that apply to it]
    employment_rate REAL                  -- the rate sort=employment ranks by (see sources/store.py)
);
-- Other ids a training is known by (its catalogue keys, its ONISEP ids), for deep links.
CREATE TABLE formation_alias (
    alias         TEXT NOT NULL,
    formation_key TEXT NOT NULL,
    PRIMARY KEY (alias, formation_key)
) WITHOUT ROWID;
-- Training organisations (CFAs...) with a known position: the contacts shown when no
-- training of a métier exists anywhere.
CREATE TABLE organisation (
    id          INTEGER PRIMARY KEY,
    siret       TEXT NOT NULL UNIQUE,
    uai         TEXT,
    name        TEXT NOT NULL,
    address     TEXT,
    postal_code TEXT,
    city        TEXT,
    insee       TEXT,
    latitude    REAL NOT NULL,
    longitude   REAL NOT NULL,
    qualiopi    INTEGER,
    email       TEXT,
    domains     TEXT NOT NULL,            -- comma-separated ROME domains (e.g. "D11") of its trainings
    trainings   INTEGER NOT NULL,         -- how many trainings of the catalogue it gives
    source      TEXT NOT NULL
);
CREATE VIRTUAL TABLE organisation_geo USING rtree(id, lat_min, lat_max, lon_min, lon_max);
CREATE TABLE recruiter (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,    -- SIRET for real ones
    siret        TEXT,
    name         TEXT NOT NULL,
    naf          TEXT NOT NULL,
    size_band    TEXT,                    -- INSEE band code ("01".."53")
    hiring_score REAL NOT NULL,           -- 0..100
    address      TEXT,
    postal_code  TEXT,
    city         TEXT,
    insee        TEXT,
    latitude     REAL NOT NULL,
    longitude    REAL NOT NULL,
    romes        TEXT NOT NULL,
    url          TEXT,
    email        TEXT,
    phone        TEXT,
    source       TEXT NOT NULL,
    demo         INTEGER NOT NULL
);
CREATE TABLE offer (
    id               INTEGER PRIMARY KEY,
    key              TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    description      TEXT,
    romes            TEXT NOT NULL,
    appellation      TEXT,
    contract_nature  TEXT NOT NULL,        -- "E2" apprentissage, "FS" professionnalisation
    contract_type    TEXT,
    created_at       TEXT NOT NULL,        -- ISO 8601
    start_date       TEXT,
    duration_months  INTEGER,
    level            INTEGER,
    company_name     TEXT,
    company_siret    TEXT,
    naf              TEXT,
    size_band        TEXT,
    recruiter_key    TEXT,
    address          TEXT,
    postal_code      TEXT,
    city             TEXT,
    insee            TEXT,
    latitude         REAL NOT NULL,
    longitude        REAL NOT NULL,
    url              TEXT,
    source           TEXT NOT NULL,
    demo             INTEGER NOT NULL
);
CREATE INDEX offer_created ON offer(created_at);
-- France-wide searches: items by ROME code, in id order (= France-wide order, store/writer.py).
CREATE TABLE formation_rome (rome TEXT NOT NULL, item_id INTEGER NOT NULL, PRIMARY KEY (rome, item_id)) WITHOUT ROWID;
CREATE TABLE recruiter_rome (rome TEXT NOT NULL, item_id INTEGER NOT NULL, PRIMARY KEY (rome, item_id)) WITHOUT ROWID;
CREATE TABLE offer_rome (rome TEXT NOT NULL, item_id INTEGER NOT NULL, PRIMARY KEY (rome, item_id)) WITHOUT ROWID;
CREATE VIRTUAL TABLE formation_geo USING rtree(id, fam_min, fam_max, lat_min, lat_max, lon_min, lon_max, +item_id, +rome);
CREATE VIRTUAL TABLE recruiter_geo USING rtree(id, fam_min, fam_max, lat_min, lat_max, lon_min, lon_max, +item_id, +rome);
CREATE VIRTUAL TABLE offer_geo USING rtree(id, fam_min, fam_max, lat_min, lat_max, lon_min, lon_max, +item_id, +rome);
"""

ITEM_KINDS = ("formation", "offer", "recruiter")


def rome_family(parent_code: str) -> int:
    """Map a v3 ROME code ("M1602") to a number that orders like the code."""
    return (ord(parent_code[0]) - ord("A") + 1) * 10000 + int(parent_code[1:])
