"""InserJeunes outcomes (ingest/catalogue/outcomes.py) read from small files in the real formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from widget_server.ingest.catalogue.outcomes import (
    CFA_FILE, CFA_SOURCE, REGION_FILE, REGION_SOURCE, Outcomes, _count, _pct, employment_rate,
)

CFA_HEADER = ("\ufeffAnnée;UAI;Libellé;Région;Part contrats apprentissage interrompus;Taux poursuite études;"
              "Taux emploi 6 mois;Taux emploi 6 mois attendu;VA emploi 6 mois;Taux emploi 12 mois")
REGION_HEADER = ("\ufeffid;millesime;code_region;voie;cfd;nb_sortant;taux_emploi_12_mois;taux_emploi_6_mois;"
                 "taux_poursuite_etudes")


def write(data_dir: Path, cfa_rows: list[str], region_rows: list[str]) -> Outcomes:
    (data_dir / "outcomes").mkdir(parents=True, exist_ok=True)
    (data_dir / CFA_FILE).write_text("\n".join([CFA_HEADER, *cfa_rows]) + "\n", encoding="utf-8")
    (data_dir / REGION_FILE).write_text("\n".join([REGION_HEADER, *region_rows]) + "\n", encoding="utf-8")
    return Outcomes.load(data_dir)


def test_percentages_and_counts():
    assert [_pct(v) for v in ("81.0", "72,6", " 7 ", "", None, "n.d.", "100", "-100", "100.4", "-101")] == [
        81, 73, 7, None, None, None, 100, -100, None, None]
    assert [_count(v) for v in ("21", "21.0", " 3 ", "", None, "-2", "1.2.3", "x")] == [21, 21, 3, None, None,
                                                                                          None, None, None]


def test_a_cfa_keeps_its_latest_period_with_an_employment_rate(tmp_path):
    o = write(tmp_path, [
        "cumul 2021-2022;0630003L;Ancien  libellé;ARA;;;70.0;;;",
        "cumul 2023-2024;0630003l;Cours   Supérieurs, Clermont;ARA;12.5;30.0;81.0;73.0;8.0;73.0",
        "cumul 2022-2023;0630003L;Entre-deux;ARA;;;75.0;;;",
        "cumul 2024-2025;0630003L;Sans taux;ARA;5;5;;;;",          # no rate at all: not a figure
        "cumul 2023-2024;0690001A;Douze mois seulement;ARA;;;;;;64.0",
        "cumul 2023-2024;PASUNUAI;Illisible;ARA;;;50.0;;;",
    ], [])
    assert o.rows[CFA_FILE] == 6
    assert o.by_uai["0630003L"] == {
        "scope": "cfa", "uai": "0630003L", "label": "Cours Supérieurs, Clermont", "period": "cumul 2023-2024",
        "years": "2023-2024", "employment_6_months": 81, "employment_12_months": 73,
        "expected_employment_6_months": 73, "value_added_6_months": 8, "further_study": 30,
        "interrupted_contracts": 12, "source": CFA_SOURCE}
    assert o.by_uai["0690001A"]["employment_6_months"] is None
    assert o.by_uai["0690001A"]["employment_12_months"] == 64
    assert set(o.by_uai) == {"0630003L", "0690001A"}


def test_a_diploma_in_a_region_keeps_its_latest_apprenticeship_year(tmp_path):
    o = write(tmp_path, [], [
        "a;2021_2022;84;apprentissage;50022137;30;60;55;20",
        "b;2022_2023;84;apprentissage;50022137;21;57;43;60",
        "c;2020_2021;84;apprentissage;50022137;10;40;40;10",
        "d;2022_2023;84;scolaire;40022101;50;90;90;5",              # school route: not ours
        "e;2022_2023;;apprentissage;40022101;50;90;90;5",           # no region
        "f;2022_2023;84;apprentissage;;50;90;90;5",                 # no diploma
        "g;2022_2023;84;apprentissage;40022101;50;;;5",             # no rate
        "h;2022_2023;11;apprentissage;32031213;;70;;",
    ])
    assert o.rows[REGION_FILE] == 8
    assert o.by_cfd_region[("50022137", "84")] == {
        "scope": "diploma_region", "cfd": "50022137", "region_code": "84", "period": "2022_2023",
        "years": "2022-2023", "employment_6_months": 43, "employment_12_months": 57, "further_study": 60,
        "leavers": 21, "source": REGION_SOURCE}
    assert o.by_cfd_region[("32031213", "11")]["employment_6_months"] is None
    assert set(o.by_cfd_region) == {("50022137", "84"), ("32031213", "11")}


def test_a_training_carries_its_cfas_figures_then_its_diplomas_in_its_region(tmp_path):
    o = write(tmp_path, ["cumul 2023-2024;0630003L;CFA A;ARA;;;81.0;;;73.0",
                         "cumul 2023-2024;0690001A;CFA B;ARA;;;60.0;;;"],
              ["b;2022_2023;84;apprentissage;50022137;21;57;43;60",
               "b;2022_2023;84;apprentissage;32031213;21;50;40;60",
               "b;2022_2023;11;apprentissage;50022137;21;90;90;60"])
    both = o.for_training(["0999999Z", "0630003L", "0690001A"], ["11111111", "50022137", "32031213"],
                          "84", "Auvergne-Rhône-Alpes")
    assert [(f["scope"], f.get("uai") or f["cfd"]) for f in both] == [("cfa", "0630003L"),
                                                                       ("diploma_region", "50022137")]
    assert both[1]["region"] == "Auvergne-Rhône-Alpes" and all("period" not in f for f in both)
    assert "period" in o.by_uai["0630003L"]            # the loaded figures are not changed by a training
    assert o.for_training([], ["50022137"], None, None) == []
    assert o.for_training(["0690001A"], [], "84", "x")[0]["employment_6_months"] == 60


@pytest.mark.parametrize("figures,rate", [
    ([], None),
    ([{"scope": "diploma_region", "employment_6_months": 40, "employment_12_months": 50},
      {"scope": "cfa", "employment_6_months": 81, "employment_12_months": 70}], 81.0),
    ([{"scope": "cfa", "employment_6_months": None, "employment_12_months": 70}], 70.0),
    ([{"scope": "cfa", "employment_6_months": None, "employment_12_months": None},
      {"scope": "diploma_region", "employment_6_months": None, "employment_12_months": 55}], 55.0),
    ([{"scope": "diploma_region", "employment_6_months": 0, "employment_12_months": 50}], 0.0),
])
def test_the_employment_rate_of_the_sort(figures, rate):
    assert employment_rate(figures) == rate


def test_a_period_given_twice_keeps_its_first_row(tmp_path):
    o = write(tmp_path, ["cumul 2023-2024;0630003L;Premier;ARA;;;81.0;;;",
                         "cumul 2023-2024;0630003L;Second;ARA;;;50.0;;;"],
              ["a;2022_2023;84;apprentissage;50022137;21;57;43;60",
               "b;2022_2023;84;apprentissage;50022137;21;10;10;10"])
    assert o.by_uai["0630003L"]["label"] == "Premier"
    assert o.by_cfd_region[("50022137", "84")]["employment_6_months"] == 43
