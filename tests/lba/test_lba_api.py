"""La Bonne Alternance's v1 API over HTTP: every route, LBA's validation probes, its buckets and item fields.

Every JSON answer is also checked against the OpenAPI contract by the session client.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from widget_server.settings import PROJECT_ROOT

LYON = {"latitude": "45.76", "longitude": "4.83", "radius": "30", "insee": "69123"}
BAKER = {"caller": "partenaire-test", "romes": "D1102", **LYON}
SAMPLES = PROJECT_ROOT / "data" / "samples"


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/V1"])
def test_jobs_et_formations_answers_lbas_buckets(client, prefix):
    r = client.get(f"{prefix}/jobsEtFormations", params=BAKER)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"formations", "jobs"}
    assert set(body["jobs"]) == {"peJobs", "matchas", "lbaCompanies", "lbbCompanies"}
    formations = body["formations"]["results"]
    assert formations and all(f["ideaType"] == "formation" for f in formations)
    assert any(f["diplomaLevel"] == "3 (CAP...)" for f in formations)
    first = formations[0]
    assert isinstance(first["place"]["distance"], float) and first["place"]["distance"] <= 30
    assert first["romes"] and {"code"} <= set(first["romes"][0])
    companies = body["jobs"]["lbaCompanies"]["results"]
    assert companies and companies[0]["ideaType"] == "lba" and companies[0]["company"]["siret"]
    assert companies[0]["demo"] is True           # a demonstration item says so, in a field LBA clients ignore
    sizes = [c["company"]["size"] for c in companies if c["company"]["size"]]
    assert sizes and all("salarié" in s for s in sizes)


def test_insee_only_names_the_place_the_coordinates_are_the_centre(client):
    # A commune far from the point: LBA's partners sent both; the point decides.
    near = client.get("/api/v1/jobsEtFormations", params={**BAKER, "insee": "75056"}).json()
    assert near["formations"]["results"][0]["place"]["distance"] <= 30


def test_sources_limit_the_buckets(client):
    only = client.get("/api/v1/jobsEtFormations", params={**BAKER, "sources": "formations"}).json()
    assert only["jobs"] is None and only["formations"]["results"]
    lba = client.get("/api/v1/jobsEtFormations", params={**BAKER, "sources": "lba,offres"}).json()
    assert lba["formations"] is None and lba["jobs"]["lbaCompanies"] is not None and lba["jobs"]["matchas"] is None


def test_france_wide_radius_and_no_place(client):
    wide = client.get("/api/v1/jobsEtFormations", params={**BAKER, "radius": "20000"}).json()
    distances = [f["place"]["distance"] for f in wide["formations"]["results"]]
    assert max(distances) > 200 and distances == sorted(distances)
    nowhere = client.get("/api/v1/jobsEtFormations", params={"caller": "x", "romes": "D1102"}).json()
    assert nowhere["formations"]["results"]


# The probes: what LBA refused, refused with its message; all at once.
PROBES = [
    ({"romes": "D1102", **LYON}, ["caller : caller is missing."]),
    ({"caller": "x", **LYON}, ["romes or rncp : You must specify at least 1 rome code or a rncp code."]),
    ({"caller": "x", "romes": "D11", **LYON}, ["romes : Badly formatted rome codes."]),
    ({"caller": "x", "romes": ",".join(f"D{1100 + i}" for i in range(21)), **LYON}, ["romes : Too many rome codes."]),
    ({"caller": "x", "romes": "D1102", "rncp": "RNCP123"}, ["romes or rncp : You must specify either a rncp code"]),
    ({"caller": "x", "rncp": "123"}, ["rncp : Badly formatted rncp code."]),
    ({"caller": "x", "rncp": "RNCP99999"}, ["rncp : Rncp code not recognized."]),
    ({"caller": "x", "romes": "D1102", "latitude": "45.7", "radius": "30", "insee": "69123"},
     ["longitude : Search center longitude is missing."]),
    ({"caller": "x", "romes": "D1102", "latitude": "abc", "longitude": "4.8", "radius": "30", "insee": "69123"},
     ["latitude : Search center latitude must be a number."]),
    ({"caller": "x", "romes": "D1102", "latitude": "95", "longitude": "4.8", "radius": "30", "insee": "69123"},
     ["latitude : Search center latitude must be a number between -90 and 90."]),
    ({"caller": "x", "romes": "D1102", "latitude": "45", "longitude": "190", "radius": "30", "insee": "69123"},
     ["longitude : Search center longitude must be a number between -180 and 180."]),
    ({"caller": "x", "romes": "D1102", "latitude": "45", "longitude": "4.8", "insee": "69123"},
     ["radius : Search radius is missing."]),
    ({"caller": "x", "romes": "D1102", "latitude": "45", "longitude": "4.8", "radius": "dix", "insee": "69123"},
     ["radius : Search radius must be a number."]),
    ({"caller": "x", "romes": "D1102", "latitude": "45", "longitude": "4.8", "radius": "300", "insee": "69123"},
     ["radius : Search radius must be a number between 0 and 200."]),
    ({"caller": "x", "romes": "D1102", "latitude": "45", "longitude": "4.8", "radius": "30"},
     ["insee : insee city code is missing."]),
    ({"caller": "x", "romes": "D1102", **LYON, "insee": "6912"}, ["insee : Badly formatted insee city code."]),
    ({"caller": "x", "romes": "D1102", "diploma": "9 (Doctorat)"}, ["diploma : Optional diploma argument"]),
    ({"caller": "x", "romes": "D1102", "sources": "formations,emplois"}, ["sources : Optional sources argument"]),
    ({"latitude": "95", "romes": "nope"}, ["caller : caller is missing.", "romes : Badly formatted",
                                           "latitude : Search center latitude must be", "longitude : Search center "
                                           "longitude is missing.", "radius : Search radius is missing.",
                                           "insee : insee city code is missing."]),
]


@pytest.mark.parametrize("params,messages", PROBES)
def test_each_wrong_parameter_is_refused_as_lba_did_all_at_once(client, params, messages):
    r = client.get("/api/v1/jobsEtFormations", params=params)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "wrong_parameters"
    assert len(body["error_messages"]) == len(messages)
    for expected, got in zip(messages, body["error_messages"]):
        assert got.startswith(expected), body


@pytest.mark.parametrize("params", [
    {**BAKER, "latitude": "45,76", "longitude": "4,83"},          # decimal commas
    {**BAKER, "diploma": "3 (CAP...)"}, {**BAKER, "diploma": "INDIFFERENT"}, {**BAKER, "diploma": "3"},
    {**BAKER, "caller": "contact@partenaire.fr mon-service"},      # LBA's documented form
    {**BAKER, "opco": "akto"}, {**BAKER, "opcoUrl": "www.jecompte.fr"}, {**BAKER, "useMock": "false"},
    {**BAKER, "radius": "0"}, {**BAKER, "radius": "21000"}, {**BAKER, "insee": "2A004"},
    {"caller": "x", "rncp": "RNCP37537"},
    {"caller": "x", "romes": "d1102,D1104"},
])
def test_what_lba_accepted_is_accepted(client, params):
    r = client.get("/api/v1/jobsEtFormations", params=params)
    assert r.status_code == 200, r.text


def test_the_caller_may_be_left_out_from_our_own_pages(client):
    r = client.get("/api/v1/jobsEtFormations", params={"romes": "D1102"}, headers={"Referer": "http://testserver/x"})
    assert r.status_code == 200


def test_formations_route_with_romes_or_rome_domain_and_its_fallback(client):
    r = client.get("/api/v1/formations", params={"caller": "x", "romes": "D1102", **LYON})
    assert r.status_code == 200 and r.json()["results"]
    domain = client.get("/api/v1/formations", params={"caller": "x", "romeDomain": "D11", **LYON}).json()
    assert domain["results"] and all(r["romes"] for r in domain["results"])
    both = client.get("/api/v1/formations", params={"caller": "x", "romes": "D1102", "romeDomain": "D11"})
    assert both.status_code == 400 and "not both" in both.json()["error_messages"][0]
    bad = client.get("/api/v1/formations", params={"caller": "x", "romeDomain": "D1"})
    assert bad.status_code == 400 and bad.json()["error_messages"][0].startswith("romeDomain : Badly formatted")
    # Nothing within 1 km of a point at sea: LBA's fallback gives the nearest ones anyway.
    sea = client.get("/api/v1/formations", params={"caller": "x", "romes": "D1102", "latitude": "46.5",
                                                   "longitude": "-3.5", "radius": "1"}).json()
    assert 1 <= len(sea["results"]) <= 5 and all(f["place"]["distance"] > 1 for f in sea["results"])


def _a_training(client) -> dict:
    return client.get("/api/v1/formations", params={"caller": "x", "romes": "D1102", **LYON}).json()["results"][0]


def test_one_formation_by_catalogue_key_onisep_id_or_our_id(client):
    training = _a_training(client)
    # Catalogue keys end in "#L01": a URL carries it as %23.
    by_key = client.get(f"/api/v1/formations/formation/{quote(training['id'], safe='')}")
    assert by_key.status_code == 200 and by_key.json()["results"][0]["title"] == training["title"]
    onisep = training["onisepUrl"].rsplit("/", 1)[1] if training["onisepUrl"] else None
    if onisep:
        by_onisep = client.get(f"/api/V1/formations/formation/{onisep}")
        assert by_onisep.status_code == 200 and by_onisep.json()["results"][0]["cfd"]
    gone = client.get("/api/v1/formations/formation/0000-gone")
    assert gone.status_code == 404 and gone.json() == {"error": "not_found", "result": "not_found",
                                                       "message": "Formation non trouvée"}


def test_formations_par_region_and_departement(client):
    region = client.get("/api/v1/formationsParRegion", params={"caller": "x", "region": "84", "romes": "D1102"})
    assert region.status_code == 200
    assert region.json()["results"] and all(f["place"]["departementNumber"] in
                                            {"01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"}
                                            for f in region.json()["results"])
    dept = client.get("/api/v1/formationsParRegion", params={"caller": "x", "departement": "69", "romes": "D1102"})
    assert dept.json()["results"] and {f["place"]["departementNumber"] for f in dept.json()["results"]} == {"69"}
    both = client.get("/api/v1/formationsParRegion", params={"caller": "x", "region": "84", "departement": "69"})
    assert both.status_code == 400 and "not both" in both.json()["error_messages"][0]
    none = client.get("/api/v1/formationsParRegion", params={"caller": "x"})
    assert none.status_code == 400 and "at least one" in none.json()["error_messages"][0]


def test_jobs_route_and_its_items(client):
    r = client.get("/api/v1/jobs", params=BAKER)
    assert r.status_code == 200
    jobs = r.json()
    assert set(jobs) == {"peJobs", "matchas", "lbaCompanies", "lbbCompanies"}
    company = jobs["lbaCompanies"]["results"][0]
    by_siret = client.get(f"/api/v1/jobs/company/{company['company']['siret']}", params={"type": "lba"})
    assert by_siret.status_code == 200 and by_siret.json()["lbaCompanies"][0]["title"] == company["title"]
    lbb = client.get(f"/api/v1/jobs/company/{company['company']['siret']}", params={"type": "lbb"})
    assert lbb.json()["lbbCompanies"][0]["ideaType"] == "lbb"
    assert client.get("/api/v1/jobs/company/00000000000000").status_code == 404
    assert client.get("/api/v1/jobs/company/1", params={"type": "x"}).status_code == 400
    wide = client.get("/api/v1/jobs", params={**BAKER, "radius": "20000"}).json()
    offers = wide["peJobs"]["results"]
    assert offers and offers[0]["ideaType"] == "peJob" and offers[0]["job"]["id"]
    one = client.get(f"/api/v1/jobs/job/{offers[0]['job']['id']}")
    assert one.status_code == 200 and one.json()["peJobs"][0]["title"] == offers[0]["title"]
    gone = client.get("/api/v1/jobs/job/123456789")
    assert gone.status_code == 404 and gone.json()["message"] == "Offre non trouvée"
    assert client.get("/api/v1/jobs/matcha/abc-0").status_code == 404
    matcha = client.get(f"/api/v1/jobs/matcha/{offers[0]['job']['id']}")
    assert matcha.json()["matchas"][0]["ideaType"] == "matcha"


def test_jobs_route_validation(client):
    r = client.get("/api/v1/jobs", params={"romes": "D1102", "sources": "formations"})
    assert r.status_code == 400
    assert [m.split(" :")[0] for m in r.json()["error_messages"]] == ["caller", "sources"]


def test_metier_routes(client):
    lba = client.get("/api/v1/metiers", params={"title": "boulanger"})
    assert lba.status_code == 200
    first = lba.json()["labelsAndRomes"][0]
    assert first["romes"] == ["D1102"] and first["type"] == "job" and first["rncps"] == []
    ours = client.get("/api/v1/metiers", params={"q": "boulanger"})
    assert ours.status_code == 200 and "results" in ours.json()
    by_romes = client.get("/api/V1/metiers", params={"romes": "D1102"}).json()
    assert by_romes["labelsAndRomes"][0]["label"].startswith("Boulanger")
    missing = client.get("/api/v1/metiers", params={"title": ""})
    assert missing.status_code == 400 and missing.json()["error"] == "missing_parameters"
    assert client.get("/api/V1/metiers").json()["error"] == "missing_parameters"
    # Without any parameter, ours answers on /api/v1 (its message names q).
    assert client.get("/api/v1/metiers").json()["error"]["details"][0]["param"] == "q"
    labels = client.get("/api/v1/metiers/all").json()["metiers"]
    assert len(labels) > 500 and labels == sorted(labels)
    training = _a_training(client)
    by_cfd = client.get(f"/api/v1/metiers/metiersParFormation/{training['cfd']}").json()
    assert by_cfd["metiers"]
    by_siret = client.get(f"/api/v1/metiers/metiersParEtablissement/{training['company']['siret']}").json()
    assert by_siret["metiers"]
    intitule = client.get("/api/v1/metiers/intitule", params={"label": "boulang"}).json()
    assert {"appellation", "code_rome", "intitule"} == set(intitule["coupleAppellationRomeMetier"][0])
    assert client.get("/api/v1/metiers/intitule").status_code == 400


def test_our_search_takes_insee_with_coordinates_as_the_widget_does(client):
    r = client.get("/api/v1/search", params={"caller": "x", "romes": "D1102", "latitude": "45.76",
                                             "longitude": "4.83", "insee": "69123"})
    assert r.status_code == 200
    place = r.json()["query"]["place"]
    assert place["given_by"] == "coordinates" and place["commune"]["insee"] == "69123"
    assert place["latitude"] == 45.76


def test_the_routes_are_in_the_contract_tagged_lba(client):
    spec = client.get("/api/openapi.json").json()
    lba = {p for p, ops in spec["paths"].items() if "LBA compatibility" in ops["get"].get("tags", [])}
    assert {"/api/v1/jobsEtFormations", "/api/v1/formations", "/api/v1/formations/formation/{id}",
            "/api/v1/formationsParRegion", "/api/v1/jobs", "/api/v1/jobs/job/{id}", "/api/v1/jobs/company/{siret}",
            "/api/v1/jobs/matcha/{id}", "/api/v1/metiers/all", "/api/v1/metiers/intitule"} <= lba


def test_samples_are_lbas_real_answers():
    jobs = json.loads((SAMPLES / "lba_api_v1_jobs.json").read_text(encoding="utf-8"))
    formations = json.loads((SAMPLES / "lba_api_v1_formations.json").read_text(encoding="utf-8"))
    assert set(jobs) == {"peJobs", "matchas", "lbaCompanies", "lbbCompanies"} and len(formations["results"]) == 5
