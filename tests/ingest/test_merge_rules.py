"""The catalogue's matching rules (ingest/catalogue/merge.py) on a tiny real Diplomas and Organisations.

test_catalogue.py checks the same rules against the national referentials (a minute to load);
these build the two referentials by hand with the few codes a case needs, so they run in
milliseconds (and bench/mutation.py can run them once per mutant).
"""

from __future__ import annotations

from widget_server.ingest.catalogue.diplomas import Diplomas
from widget_server.ingest.catalogue.merge import Merger, Training, _rank
from widget_server.ingest.catalogue.organisations import Organisations
from widget_server.ingest.catalogue.record import TrainingRecord

CFA, CFA_OTHER_SITE, OTHER_CFA = "31405708400027", "31405708400035", "77567227200015"
MERCUREY, CHALON = "71294", "71076"


def diplomas() -> Diplomas:
    d = Diplomas()
    d.bcn.update({"50022136": ("CAP Pâtissier", 3), "50022141": ("CAP pâtissier", 3),
                  "50022137": ("CAP Boulanger", 3), "32031213": ("BTS Management commercial", 5),
                  "40022101": ("Bac pro Boulanger-pâtissier", 4)})
    d.same[("cfd", "32031213")].add(("rncp", "RNCP34031"))
    d.same[("rncp", "RNCP34031")].add(("cfd", "32031213"))
    d.newer[("cfd", "50022136")].add(("cfd", "50022141"))     # the 2020 CAP replaced by the new one
    return d


def merger(**siret_by_uai: str) -> Merger:
    return Merger(diplomas(), Organisations(siret_by_uai=dict(siret_by_uai)))


def record(source: str = "rco_2020_11", source_id: str = "1", *, insee: str = MERCUREY, trainer: str = CFA,
           year: int = 2020, line: int = 2, **fields) -> TrainingRecord:
    return TrainingRecord(source=source, year=year, source_id=source_id, line=line, trainer_siret=trainer,
                          insee=insee, **fields)


def groups(trainings: list[Training]) -> list[list[str]]:
    return [[r.source_id for r in t.records] for t in trainings]


def test_the_organisation_is_the_trainers_siren_else_the_managers_else_by_uai():
    m = merger(**{"0711234A": "44444444400011"})
    assert m.organisation_key(record(trainer=CFA, manager_siret=OTHER_CFA), {}) == "314057084"
    assert m.organisation_key(record(trainer="", manager_siret=OTHER_CFA), {}) == "775672272"
    # No SIRET at all: the records' own UAI -> SIRET pairs, then the directory, the trainer's UAI first.
    by_uai = record(trainer="", trainer_uai="0719999Z", manager_uai="0711234A")
    assert m.organisation_key(by_uai, {"0719999Z": CFA}) == "314057084"
    assert m.organisation_key(by_uai, {}) == "444444444"
    assert m.organisation_key(by_uai, {"0711234A": OTHER_CFA}) == "775672272"
    assert m.organisation_key(record(trainer="", trainer_uai="0710000B", manager_uai="0710000C"), {}) == "uai:0710000B"
    assert m.organisation_key(record(trainer="", manager_uai="0710000C"), {}) == "uai:0710000C"


def test_newest_source_first_then_the_sites_own_coordinates():
    assert _rank(record("onisep_2023", year=2023)) < _rank(record("rco_2020_11")) < _rank(record("rco_2020_06"))
    assert _rank(record("rco_2020_06")) < _rank(record("parcoursup_2020")) < _rank(record("autre_2020"))
    assert _rank(record("parcoursup_2020", year=2021)) < _rank(record("rco_2020_11"))


def test_one_diploma_one_site_one_organisation_is_one_training():
    same = [record(source_id="a", cfd="50022137"), record(source_id="b", cfd="50022137", trainer=CFA_OTHER_SITE)]
    assert groups(merger().merge(same)) == [["a", "b"]]
    apart = [record(source_id="a", cfd="50022137"), record(source_id="b", cfd="50022137", insee=CHALON),
             record(source_id="c", cfd="50022137", trainer=OTHER_CFA), record(source_id="d", cfd="32031213")]
    trainings = merger().merge(apart)
    assert groups(trainings) == [["a"], ["b"], ["c"], ["d"]]
    assert [(t.organisation, t.insee) for t in trainings[:3]] == [
        ("314057084", MERCUREY), ("314057084", CHALON), ("775672272", MERCUREY)]


def test_codes_of_one_diploma_and_its_successor_match():
    by_rncp = [record(source_id="cfd", cfd="32031213"), record(source_id="rncp", rncp="RNCP34031")]
    assert groups(merger().merge(by_rncp)) == [["cfd", "rncp"]]
    # The 2023 record comes first (newest), the 2020 one joins it through the replacement.
    old_and_new = [record(source_id="old", cfd="50022136"),
                   record("onisep_2023", "new", year=2023, cfd="50022141")]
    assert groups(merger().merge(old_and_new)) == [["new", "old"]]


def test_the_same_title_is_the_same_diploma_when_codes_miss_the_link():
    titled = [record(source_id="a", cfd="50022136"), record(source_id="b", cfd="99999999",
                                                                          title="CAP PATISSIER")]
    assert groups(merger().merge(titled)) == [["a", "b"]]
    untitled = [record(source_id="a", cfd="88888888"), record(source_id="b", cfd="99999999")]
    assert groups(merger().merge(untitled)) == [["a"], ["b"]]


def test_a_record_joins_the_best_matching_training():
    # Two trainings at one site: a record with both codes of the BTS joins the BTS, not the first one.
    records = [record(source_id="cap", cfd="50022137"), record(source_id="bts", cfd="32031213", line=3),
               record(source_id="both", rncp="RNCP34031", cfd="32031213", line=4)]
    assert groups(merger().merge(records)) == [["cap"], ["bts", "both"]]
    # An identical Certif Info id beats more codes in common.
    d = diplomas()
    m = Merger(d, Organisations())
    first = Training([], {("cfd", "32031213"), ("rncp", "RNCP34031")}, "314057084", MERCUREY)
    second = Training([], {("cfd", "32031213")}, "314057084", MERCUREY, certifs={"104239"})
    lineage = frozenset({("cfd", "32031213"), ("rncp", "RNCP34031"), ("id", "104239")})
    assert m._best(record(certif="104239"), lineage, "", [first, second]) is second
    assert m._best(record(), lineage, "", [first, second]) is first
    assert m._best(record(), frozenset({("cfd", "32031213")}), "", [first, second]) is first   # ties: earliest
    assert m._best(record(), frozenset({("cfd", "1")}), "", [first, second]) is None
    assert m._best(record(), frozenset(), "bts", [first, Training([], set(), "", "", titles={"bts"})]) is not first


def test_a_training_keeps_titles_certifs_and_the_first_coordinates():
    records = [record(source_id="a", cfd="50022137", latitude=None, longitude=None),
               record(source_id="b", cfd="50022137", line=3, latitude=46.8, longitude=None),
               record(source_id="c", cfd="50022137", line=4, latitude=46.81, longitude=4.72, certif="c1"),
               record(source_id="d", cfd="50022137", line=5, latitude=46.9, longitude=4.8)]
    [training] = merger().merge(records)
    assert training.gps == (46.81, 4.72)
    assert training.certifs == {"c1"} and training.titles == {"cap boulanger"}
    assert ("cfd", "50022137") in training.nodes


def test_a_uai_only_record_finds_its_siret_in_the_other_records():
    records = [record(source_id="rco", cfd="50022137", trainer=CFA, trainer_uai="0711111A"),
               record("parcoursup_2020", "ps", trainer="", trainer_uai="0711111A", cfd="50022137"),
               record("parcoursup_2020", "manager", trainer="", manager_uai="0712222B", cfd="50022137"),
               record(source_id="rco2", trainer=OTHER_CFA, manager_siret=CFA, manager_uai="0712222B", cfd="1")]
    trainings = merger().merge(records)
    assert groups(trainings) == [["rco", "manager", "ps"], ["rco2"]]      # within a source: by line, then id
    # A UAI alone, or a SIRET alone, teaches nothing.
    lone = [record(source_id="a", trainer="", trainer_uai="0713333C", cfd="50022137"),
            record(source_id="b", trainer=CFA, cfd="50022137")]
    assert [t.organisation for t in merger().merge(lone)] == ["uai:0713333C", "314057084"]


def test_a_certif_info_id_brings_its_own_codes_and_title():
    from widget_server.ingest.catalogue.diplomas import Certification

    d = diplomas()
    d.certifications["104239"] = Certification("BTS Management commercial opérationnel", "BTS", 5, "32031213",
                                               "RNCP34031", ())
    by_id = [record(source_id="cfd", cfd="32031213"), record(source_id="id", certif="104239", line=3)]
    assert groups(Merger(d, Organisations()).merge(by_id)) == [["cfd", "id"]]
    # Titles: the Certif Info label names the training, and another record of that title joins it.
    titled = [record(source_id="id", certif="104239"),
              record(source_id="t", cfd="77777777", title="BTS management commercial operationnel", line=3)]
    [training] = Merger(d, Organisations()).merge(titled)
    assert "bts management commercial operationnel" in training.titles


def test_a_training_gathers_the_codes_of_every_record():
    # cfd + rncp, then a record with the rncp only, then one with the cfd only: one training.
    d = diplomas()
    d.same.clear()
    records = [record(source_id="both", cfd="32031213", rncp="RNCP34031"),
               record(source_id="rncp", rncp="RNCP34031", line=3), record(source_id="cfd", cfd="32031213", line=4)]
    [training] = Merger(d, Organisations()).merge(records)
    assert training.nodes == {("cfd", "32031213"), ("rncp", "RNCP34031")}
    later = [record(source_id="cfd", cfd="32031213"), record(source_id="both", cfd="32031213", rncp="RNCP34031",
                                                             line=3), record(source_id="rncp", rncp="RNCP34031", line=4)]
    assert groups(Merger(d, Organisations()).merge(later)) == [["cfd", "both", "rncp"]]


def test_an_rncp_title_names_the_training():
    d = diplomas()
    d.rncp_titles["RNCP99999"] = ("Titre professionnel Boulanger", 3)
    records = [record(source_id="rncp", rncp="RNCP99999"),
               record(source_id="titled", cfd="77777777", title="TITRE PROFESSIONNEL BOULANGER", line=3)]
    assert groups(Merger(d, Organisations()).merge(records)) == [["rncp", "titled"]]
