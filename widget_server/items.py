"""The one envelope every search result has, whatever its type and source.

This is the contract of /api/v1/search results, of the widget's templates and of
every source module (embedded store, France Travail live offers).  Shapes only;
building envelopes from store rows lives beside the sources.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

ItemType = Literal["formation", "offer", "recruiter"]


class Place(TypedDict):
    distance_km: float | None     # from the search centre, 1 decimal; None when France-wide
    address: str | None
    city: str | None
    postal_code: str | None
    insee: str | None
    latitude: float
    longitude: float
    precision: Literal["site", "organisation", "commune"] | None   # how exact the point is (formations)


class Company(TypedDict):
    name: str | None
    siret: str | None
    naf_code: str | None
    naf_label: str | None
    size: str | None              # readable band, e.g. "10-19 salariés"


class Rome(TypedDict):
    code: str
    label: str


class Dates(TypedDict):
    created_at: str | None        # ISO 8601 date (offers)
    start_date: str | None        # ISO 8601 date (offers)
    entry_periods: str | None     # formations: as given by the catalogue


class Outcome(TypedDict):
    """InserJeunes figures (percentages) that apply to a training, for one scope and period."""
    scope: Literal["cfa", "diploma_region"]   # this CFA (all its trainings), or this diploma in this region
    label: str | None                         # the CFA's name as InserJeunes gives it
    region: str | None
    years: str                                # "2023-2024" (CFA: two cumulated years), "2022-2023"
    employment_6_months: int | None
    employment_12_months: int | None
    expected_employment_6_months: int | None
    value_added_6_months: int | None          # observed minus expected, in points
    further_study: int | None
    interrupted_contracts: int | None
    leavers: int | None
    source: str


class SourceSeen(TypedDict):
    source: str                   # "rco_2020_11", "onisep_2023", "rco_2020_06", "parcoursup_2020", or an import's
    label: str
    year: int


class Contact(TypedDict):
    email: str | None             # a role or institution address, never a person's
    phone: str | None
    website: str | None


class FormationDetails(TypedDict):
    diploma: str | None           # diploma title
    diploma_type: str | None
    cfd: str | None
    rncp: str | None
    training_centre: Company      # the CFA responsible for the training
    hours: int | None
    capacity: int | None
    catalogue_key: str | None     # cle_ministere_educatif
    onisep: dict[str, str] | None # {"id": "AF.79123", "url": ...}
    uai: str | None
    intake_months: list[int]      # 1..12
    periods: list[str]            # "YYYY-MM", as the sources dated the intakes
    contact: Contact
    qualiopi: bool | None
    sources: list[SourceSeen]
    years_seen: list[int]
    outcomes: list[Outcome]
    employment_rate: float | None  # what sort=employment ranks by


class OfferDetails(TypedDict):
    contract_nature: Literal["E2", "FS"]   # E2 apprentissage, FS professionnalisation
    contract_label: str                    # "Apprentissage" / "Contrat de professionnalisation"
    contract_type: str | None              # CDD, CDI...
    duration_months: int | None
    description: str | None
    appellation: str | None


class RecruiterDetails(TypedDict):
    hiring_score: float                    # 0..100
    hiring_band: Literal["faible", "moyen", "fort", "très fort"]
    email: str | None
    phone: str | None


class Item(TypedDict):
    type: ItemType
    id: str                       # "<type>:<stable key>", unique across sources
    title: str
    place: Place
    company: Company
    romes: list[Rome]
    diploma_level: int | None     # 3..7
    dates: Dates
    url: str | None
    demo: bool                    # generated demonstration record
    source: str                   # "rco", "catalogue", "demo", "france_travail", "import"...
    formation: NotRequired[FormationDetails]
    offer: NotRequired[OfferDetails]
    recruiter: NotRequired[RecruiterDetails]


def hiring_band(score: float) -> Literal["faible", "moyen", "fort", "très fort"]:
    """Readable band of a 0..100 hiring score."""
    if score >= 80:
        return "très fort"
    if score >= 60:
        return "fort"
    if score >= 40:
        return "moyen"
    return "faible"
