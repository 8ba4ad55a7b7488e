"""The one mapping from our envelopes to La Bonne Alternance's v1 items, field by field.

Hand-made envelopes (the shape sources/envelopes.py writes) and the whole item each must give:
an HTTP test sees a field only when the dataset happens to fill it."""

from __future__ import annotations

import copy

import pytest

from widget_server.lba import mapping

# A training overseas (three-digit departement) with a phone and no e-mail, two intake periods.
FORMATION = {
    "type": "formation",
    "id": "formation:onisep_2023:0827-97411#L01",
    "title": "CAP boulanger",
    "place": {
        "distance_km": 8.9,
        "address": "12 rue des Lilas",
        "city": "Saint-Denis",
        "postal_code": "97400",
        "insee": "97411",
        "latitude": -20.8823,
        "longitude": 55.4504,
        "precision": "site",
    },
    "company": {
        "name": "CFA de la Réunion",
        "siret": "19974000100015",
        "naf_code": None,
        "naf_label": None,
        "size": None,
    },
    "romes": [{"code": "D1102", "label": "Boulanger / Boulangère"}, {"code": "D1104", "label": "Pâtissier"}],
    "diploma_level": 3,
    "dates": {"created_at": None, "start_date": None, "entry_periods": None},
    "url": "https://www.onisep.fr/http/redirection/formation/slug/AF.1",
    "demo": False,
    "source": "catalogue",
    "formation": {
        "diploma": "CAP boulanger",
        "diploma_type": "CAP",
        "cfd": "50022137",
        "rncp": "RNCP37537",
        "training_centre": {"name": "Lycée des métiers", "siret": "19974000200013"},
        "hours": None,
        "capacity": 12,
        "catalogue_key": "0827-97411#L01",
        "onisep": {"id": "AF.1", "url": "https://www.onisep.fr/http/redirection/formation/slug/AF.1"},
        "uai": "9740001A",
        "intake_months": [9],
        "periods": ["2026-09", "2027-01"],
        "contact": {"email": None, "phone": "0262000000", "website": None},
    },
}


OFFER = {
    "type": "offer",
    "id": "offer:2Z0001",
    "title": "Boulanger (H/F)",
    "place": {
        "distance_km": 2.1,
        "address": None,
        "city": "Caluire-et-Cuire",
        "postal_code": "69300",
        "insee": "69034",
        "latitude": 45.76302,
        "longitude": 4.86052,
        "precision": None,
    },
    "company": {
        "name": "Boulangerie Martin",
        "siret": "29882133924637",
        "naf_code": "1071C",
        "naf_label": "Boulangerie et boulangerie-pâtisserie",
        "size": "6 à 9 salariés",
    },
    "romes": [{"code": "D1102", "label": "Boulanger / Boulangère"}],
    "diploma_level": 4,
    "dates": {"created_at": "2026-11-06", "start_date": "2027-01-11", "entry_periods": None},
    "url": "https://candidat.francetravail.fr/offres/recherche/detail/2Z0001",
    "demo": False,
    "source": "france_travail",
    "offer": {
        "contract_nature": "E2",
        "contract_label": "Apprentissage",
        "contract_type": "CDD",
        "duration_months": 24,
        "description": "Pétrir, façonner.",
        "appellation": "Boulanger",
    },
}


RECRUITER = {
    "type": "recruiter",
    "id": "recruiter:50714415664205",
    "title": "Boulangerie Dupont",
    "place": {
        "distance_km": 1.7,
        "address": "3 place Bellecour",
        "city": "Lyon",
        "postal_code": "69002",
        "insee": "69382",
        "latitude": 45.75,
        "longitude": 4.83,
        "precision": None,
    },
    "company": {
        "name": "Boulangerie Dupont",
        "siret": "50714415664205",
        "naf_code": "1071C",
        "naf_label": "Boulangerie et boulangerie-pâtisserie",
        "size": "10 à 19 salariés",
    },
    "romes": [{"code": "D1102", "label": "Boulanger / Boulangère"}],
    "diploma_level": None,
    "dates": {"created_at": None, "start_date": None, "entry_periods": None},
    "url": "https://www.boulangerie-dupont.fr",
    "demo": True,
    "source": "demo",
    "recruiter": {"hiring_score": 7.3, "hiring_band": "faible", "email": "rh@dupont.fr", "phone": None},
}


# The items LBA's clients get for them: names and JSON types as in LBA's real answers
# (data/samples/lba_api_v1_*.json, which test_lba_samples_contract.py holds every route to); coordinates
# of formations are strings there, departements of overseas communes three digits.
LBA_FORMATION = {
    "ideaType": "formation",
    "title": "CAP boulanger",
    "longTitle": "CAP boulanger",
    "id": "0827-97411#L01",
    "contact": {"email": None, "phone": "0262000000"},
    "diplomaLevel": "3 (CAP...)",
    "diploma": "CAP boulanger",
    "cfd": "50022137",
    "rncpCode": "RNCP37537",
    "rncpLabel": None,
    "rncpEligibleApprentissage": None,
    "period": '["2026-09", "2027-01"]',
    "capacity": 12,
    "createdAt": None,
    "lastUpdateAt": None,
    "onisepUrl": "https://www.onisep.fr/http/redirection/formation/slug/AF.1",
    "url": "https://www.onisep.fr/http/redirection/formation/slug/AF.1",
    "job": None,
    "romes": [{"code": "D1102"}, {"code": "D1104"}],
    "nafs": None,
    "training": None,
    "demo": False,
    "cleMinistereEducatif": "0827-97411#L01",
    "place": {
        "distance": 8.9,
        "fullAddress": "12 rue des Lilas, 97400 Saint-Denis",
        "latitude": "-20.8823",
        "longitude": "55.4504",
        "city": "Saint-Denis",
        "address": "12 rue des Lilas",
        "cedex": None,
        "zipCode": "97400",
        "departementNumber": "974",
        "region": None,
        "insee": "97411",
    },
    "company": {
        "name": "CFA de la Réunion",
        "siret": "19974000100015",
        "id": "19974000100015",
        "uai": "9740001A",
        "headquarter": {
            "id": "19974000200013",
            "uai": "9740001A",
            "type": None,
            "hasConvention": None,
            "place": {
                "address": "12 rue des Lilas",
                "cedex": None,
                "zipCode": "97400",
                "city": "Saint-Denis",
            },
            "name": "Lycée des métiers",
        },
        "place": {"city": "Saint-Denis"},
    },
    "idRco": None,
    "idRcoFormation": None,
}


LBA_OFFER = {
    "ideaType": "peJob",
    "title": "Boulanger (H/F)",
    "longTitle": None,
    "id": "2Z0001",
    "contact": None,
    "diplomaLevel": "4 (BAC...)",
    "diploma": None,
    "cfd": None,
    "rncpCode": None,
    "rncpLabel": None,
    "rncpEligibleApprentissage": None,
    "period": None,
    "capacity": None,
    "createdAt": None,
    "lastUpdateAt": None,
    "onisepUrl": None,
    "url": "https://candidat.francetravail.fr/offres/recherche/detail/2Z0001",
    "job": {
        "id": "2Z0001",
        "creationDate": "2026-11-06",
        "description": "Pétrir, façonner.",
        "contractType": "CDD",
        "contractDescription": "Apprentissage",
        "duration": "24 Mois",
        "jobStartDate": "2027-01-11",
    },
    "romes": [{"code": "D1102", "label": "Boulanger / Boulangère"}],
    "nafs": [{"code": "1071C", "label": "Boulangerie et boulangerie-pâtisserie"}],
    "training": None,
    "demo": False,
    "place": {
        "distance": 2.1,
        "insee": "69034",
        "zipCode": "69300",
        "city": "Caluire-et-Cuire",
        "latitude": 45.76302,
        "longitude": 4.86052,
        "fullAddress": "69300 Caluire-et-Cuire",
        "address": None,
    },
    "company": {"name": "Boulangerie Martin", "siret": "29882133924637", "size": "6 à 9 salariés"},
}


LBA_RECRUITER = {
    "ideaType": "lba",
    "title": "Boulangerie Dupont",
    "longTitle": None,
    "id": "50714415664205",
    "contact": {"email": "rh@dupont.fr", "phone": None},
    "diplomaLevel": None,
    "diploma": None,
    "cfd": None,
    "rncpCode": None,
    "rncpLabel": None,
    "rncpEligibleApprentissage": None,
    "period": None,
    "capacity": None,
    "createdAt": None,
    "lastUpdateAt": None,
    "onisepUrl": None,
    "url": "https://www.boulangerie-dupont.fr",
    "job": None,
    "romes": [{"code": "D1102", "label": "Boulanger / Boulangère"}],
    "nafs": [{"code": "1071C", "label": "Boulangerie et boulangerie-pâtisserie"}],
    "training": None,
    "demo": True,
    "place": {
        "distance": 1.7,
        "fullAddress": "3 place Bellecour, 69002 Lyon",
        "latitude": 45.75,
        "longitude": 4.83,
        "city": "Lyon",
        "address": "3 place Bellecour, 69002 Lyon",
        "zipCode": "69002",
        "insee": "69382",
    },
    "company": {
        "name": "Boulangerie Dupont",
        "siret": "50714415664205",
        "size": "10 à 19 salariés",
        "socialNetwork": "",
        "url": "https://www.boulangerie-dupont.fr",
    },
}


@pytest.mark.parametrize(
    "kind,envelope,expected",
    [
        ("formation", FORMATION, LBA_FORMATION),
        ("pe_job", OFFER, LBA_OFFER),
        ("company", RECRUITER, LBA_RECRUITER),
    ],
)
def test_every_field_of_each_kind(kind, envelope, expected):
    mapped = getattr(mapping, kind)(copy.deepcopy(envelope))
    assert mapped == expected
    assert list(mapped) == list(expected)  # LBA's clients may read fields in order: keep it


def test_a_formation_without_its_catalogue_key_or_contact():
    envelope = copy.deepcopy(FORMATION)
    envelope["formation"].update(
        catalogue_key=None, periods=[], onisep=None, contact={"email": None, "phone": None, "website": None}
    )
    mapped = mapping.formation(envelope)
    assert (mapped["id"], mapped["cleMinistereEducatif"]) == ("onisep_2023:0827-97411#L01", None)
    assert (mapped["contact"], mapped["period"], mapped["onisepUrl"]) == (None, None, None)
    envelope["formation"]["contact"] = {"email": "cfa@example.fr", "phone": None, "website": None}
    assert mapping.formation(envelope)["contact"] == {"email": "cfa@example.fr", "phone": None}


@pytest.mark.parametrize(
    "insee,departement",
    [
        ("97411", "974"),
        ("97209", "972"),
        ("69123", "69"),
        ("2A004", "2A"),
        ("01001", "01"),
        (None, None),
        ("", None),
    ],
)
def test_the_departement_number(insee, departement):
    envelope = copy.deepcopy(FORMATION)
    envelope["place"]["insee"] = insee
    assert mapping.formation(envelope)["place"]["departementNumber"] == departement


def test_a_place_without_address_or_town():
    place = {
        "distance_km": None,
        "address": None,
        "city": None,
        "postal_code": None,
        "insee": None,
        "latitude": 45.0,
        "longitude": 4.0,
        "precision": None,
    }
    envelope = copy.deepcopy(RECRUITER) | {"place": place}
    mapped = mapping.company(envelope)["place"]
    assert (mapped["fullAddress"], mapped["address"], mapped["distance"]) == (None, None, None)
    envelope["place"] = place | {"city": "Lyon"}
    assert mapping.company(envelope)["place"]["fullAddress"] == "Lyon"


def test_an_offer_without_duration_or_naf_and_a_company_without_contact_or_site():
    offer = copy.deepcopy(OFFER)
    offer["offer"]["duration_months"] = None
    offer["company"]["naf_code"] = None
    mapped = mapping.pe_job(offer)
    assert (mapped["job"]["duration"], mapped["nafs"]) == (None, None)
    recruiter = copy.deepcopy(RECRUITER)
    recruiter["recruiter"].update(email=None, phone=None)
    recruiter["url"] = None
    mapped = mapping.company(recruiter)
    assert (mapped["contact"], mapped["url"], mapped["company"]["url"]) == (None, None, "")
    recruiter["company"]["naf_code"] = None
    assert mapping.company(recruiter)["nafs"] is None
    recruiter["recruiter"]["phone"] = "0478000000"
    assert mapping.company(recruiter)["contact"] == {"email": None, "phone": "0478000000"}
    assert mapping.company(recruiter, "lbb")["ideaType"] == "lbb"


ERROR_BUCKET = {"error": {"code": "source_timeout", "message": "Cette source n'a pas répondu à temps."}}
LBA_ERROR = {"result": "error", "error": "source_timeout", "message": "Cette source n'a pas répondu à temps."}


def test_the_formations_bucket():
    assert mapping.formations_bucket(None) is None
    assert mapping.formations_bucket(ERROR_BUCKET) == LBA_ERROR
    inside = {"results": [FORMATION], "nearest": [], "count": 1}
    assert mapping.formations_bucket(inside) == {"results": [LBA_FORMATION]}
    # None inside the radius: LBA answered with the nearest ones.
    assert mapping.formations_bucket({"results": [], "nearest": [FORMATION], "count": 0}) == {
        "results": [LBA_FORMATION]
    }
    assert mapping.formations_bucket({"results": [], "count": 0}) == {"results": []}
    # A short answer completed by far ones: only the ones inside (LBA's own behaviour).
    assert mapping.formations_bucket(
        {"results": [FORMATION], "nearest": [FORMATION | {"id": "formation:x"}]}
    ) == {"results": [LBA_FORMATION]}


@pytest.mark.parametrize(
    "sources,present",
    [
        ((), {"peJobs", "matchas", "lbaCompanies", "lbbCompanies"}),
        (("offres",), {"peJobs"}),
        (("peJob",), {"peJobs"}),
        (("partnerJob",), {"peJobs"}),
        (("matcha",), {"matchas"}),
        (("lba",), {"lbaCompanies"}),
        (("lbb",), {"lbbCompanies"}),
        (("lba", "offres"), {"peJobs", "lbaCompanies"}),
    ],
)
def test_the_job_buckets_follow_the_sources_asked(sources, present):
    buckets = mapping.jobs_buckets({"results": [OFFER]}, {"results": [RECRUITER]}, sources)
    assert {k for k, v in buckets.items() if v is not None} == present
    expected = {
        "peJobs": {"results": [LBA_OFFER]},
        "matchas": {"results": []},
        "lbaCompanies": {"results": [LBA_RECRUITER]},
        "lbbCompanies": {"results": []},
    }
    assert buckets == {k: expected[k] if k in present else None for k in expected}


def test_a_failed_source_is_lbas_error_object_and_the_others_answer():
    buckets = mapping.jobs_buckets(ERROR_BUCKET, {"results": [RECRUITER]}, ())
    assert buckets["peJobs"] == LBA_ERROR and buckets["lbaCompanies"] == {"results": [LBA_RECRUITER]}
    assert mapping.jobs_buckets(None, ERROR_BUCKET, ())["lbaCompanies"] == LBA_ERROR
    assert mapping.jobs_buckets(None, None, ())["peJobs"] is None
    assert mapping.source_error(ERROR_BUCKET) == LBA_ERROR
