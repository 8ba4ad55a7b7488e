"""The pairing formula on hand-made cases whose right order is obvious."""

from __future__ import annotations

import pytest

from widget_server.combinations import best_pairs, pair_score

PARENTS = {"D1102": "D1102", "D1108": "D1102", "D1104": "D1104"}
LEARNER = (45.0, 5.0)


def at(km_north: float, km_east: float = 0.0) -> tuple[float, float]:
    """A point this many km north/east of the learner (small distances, flat enough)."""
    return (LEARNER[0] + km_north / 111.195, LEARNER[1] + km_east / (111.195 * 0.7071))


def item(kind: str, key: str, where: tuple[float, float], romes=("D1102",), score: float = 50.0,
         title: str | None = None, company: str | None = None) -> dict:
    base = {"type": kind, "id": f"{kind}:{key}", "romes": [{"code": r, "label": r} for r in romes],
            "title": title or key, "company": {"name": company or f"company of {key}"},
            "place": {"latitude": where[0], "longitude": where[1], "city": "Ville"}, "demo": False}
    if kind == "recruiter":
        base["recruiter"] = {"hiring_score": score}
    return base


def order(pairs):
    return [(p["formation"]["id"].split(":")[1], p["employer"]["id"].split(":")[1]) for p in pairs]


def test_nearer_pair_first():
    f_near, f_far = item("formation", "near", at(2)), item("formation", "far", at(25))
    job = item("offer", "job", at(3))
    assert order(best_pairs([f_far, f_near], [job], LEARNER, PARENTS, 30)) == [("near", "job")]


def test_places_close_to_each_other_beat_places_on_opposite_sides():
    # Same distances from the learner, but one pair is 2 km apart and the other 20 km.
    formation = item("formation", "f", at(10))
    together = item("offer", "together", at(11))
    opposite = item("offer", "opposite", at(-10))
    assert order(best_pairs([formation], [opposite, together], LEARNER, PARENTS))[0] == ("f", "together")


def test_a_real_offer_comes_before_a_prediction():
    formation = item("formation", "f", at(1))
    offer = item("offer", "offer", at(20))
    sure_bet = item("recruiter", "predicted", at(1), score=100)
    assert order(best_pairs([formation], [sure_bet, offer], LEARNER, PARENTS)) == [("f", "offer"), ("f", "predicted")]


def test_higher_hiring_score_wins_between_equally_placed_recruiters():
    formation = item("formation", "f", at(1))
    weak, strong = item("recruiter", "weak", at(5), score=20), item("recruiter", "strong", at(5, 0.001), score=90)
    assert order(best_pairs([formation], [weak, strong], LEARNER, PARENTS))[0] == ("f", "strong")


def test_only_the_same_rome_family_is_paired():
    bakery_school = item("formation", "bakery", at(1), romes=("D1108",))      # v4 child of D1102
    pastry_job = item("offer", "pastry", at(1), romes=("D1104",))
    bakery_job = item("offer", "bakery-job", at(2), romes=("D1102",))
    assert order(best_pairs([bakery_school], [pastry_job, bakery_job], LEARNER, PARENTS)) == [("bakery", "bakery-job")]


def test_each_employer_once_a_formation_at_most_three_times_and_ten_in_all():
    formations = [item("formation", f"f{i}", at(i)) for i in range(4)]
    employers = [item("offer", f"o{i}", at(i + 0.5)) for i in range(14)]
    pairs = best_pairs(formations, employers, LEARNER, PARENTS, 30)
    assert len(pairs) == 10
    for side, most in (("formation", 3), ("employer", 1)):
        counts = {}
        for p in pairs:
            counts[p[side]["id"]] = counts.get(p[side]["id"], 0) + 1
        assert max(counts.values()) == most, side


def test_a_pair_never_joins_places_farther_apart_than_the_radius():
    formation = item("formation", "grenoble", at(0))
    oullins = item("offer", "oullins", at(89))
    assert best_pairs([formation], [oullins], LEARNER, PARENTS, 100) != []
    assert best_pairs([formation], [oullins], LEARNER, PARENTS, 30) == []     # none rather than far-fetched
    assert best_pairs([formation], [oullins], None, PARENTS) == []            # France-wide: 30 km apart at most


def test_two_pairs_that_read_the_same_are_one():
    formation = item("formation", "f", at(1))
    same = [item("offer", f"copy{i}", at(2), title="Boulanger H/F", company="Fournil") for i in range(3)]
    other = item("offer", "other", at(3), title="Boulanger H/F", company="Autre fournil")
    pairs = best_pairs([formation], [*same, other], LEARNER, PARENTS, 30)
    assert order(pairs) == [("f", "copy0"), ("f", "other")]


def test_the_documented_formula():
    formation, job = item("formation", "f", at(10)), item("offer", "job", at(0))
    score, distances = pair_score(formation, job, LEARNER)
    travel = 0.4 * 10 + 0.4 * 0 + 0.2 * 10
    assert abs(score - (0.6 / (1 + travel / 10) + 0.4)) < 0.01
    assert distances["learner_to_formation_km"] == 10.0 and distances["learner_to_employer_km"] == 0.0


def test_france_wide_uses_the_distance_between_the_two_places():
    formation = item("formation", "f", at(100))
    near_it, farther = item("offer", "near", at(101)), item("offer", "far", at(80))
    pairs = best_pairs([formation], [farther, near_it], None, PARENTS)
    assert order(pairs)[0] == ("f", "near")
    assert pairs[0]["distances"]["learner_to_formation_km"] is None


def test_a_predicted_recruiter_counts_half_an_offer():
    # On the spot (T = 0, P = 1): score = 0.6 + 0.4 S, S = 1 for an offer, 0.5 x 50 / 100 for this prediction.
    formation = item("formation", "f", at(0))
    offer_score, _ = pair_score(formation, item("offer", "o", at(0)), LEARNER)
    predicted_score, _ = pair_score(formation, item("recruiter", "r", at(0), score=50), LEARNER)
    assert offer_score == pytest.approx(1.0)
    assert predicted_score == pytest.approx(0.6 + 0.4 * 0.25)


def test_the_half_weight_of_a_prediction_orders_recruiters():
    # Where "0.5 x score" and "score" disagree: "sure" scores 100 but its pair travels T = 10 km
    # (P = 0.5), "weak" scores 20 on the spot (P = 1).
    #   0.6 x 0.5 + 0.4 x 0.5 x 1.0 = 0.50  <  0.6 x 1 + 0.4 x 0.5 x 0.2 = 0.64   (the formula)
    #   0.6 x 0.5 + 0.4 x 1.0       = 0.70  >  0.6 x 1 + 0.4 x 0.2       = 0.68   (without the 0.5)
    formation = item("formation", "f", at(0))
    sure = item("recruiter", "sure", at(10 / 0.6), score=100)      # T = 0.4 d + 0.2 d = 10
    weak = item("recruiter", "weak", at(0, 0.001), score=20)
    pairs = best_pairs([formation], [sure, weak], LEARNER, PARENTS, 30)
    assert order(pairs) == [("f", "weak"), ("f", "sure")]
    assert [p["score"] for p in pairs] == [pytest.approx(0.64, abs=2e-3), pytest.approx(0.50, abs=2e-3)]


def test_pairs_carry_their_three_distances_rounded_to_100_m():
    formation, job = item("formation", "f", at(3.44)), item("offer", "job", at(-7.23))
    [pair] = best_pairs([formation], [job], LEARNER, PARENTS, 30)
    assert pair["distances"] == {"learner_to_formation_km": 3.4, "learner_to_employer_km": 7.2,
                                 "formation_to_employer_km": 10.7}
    assert [str(v) for v in pair["distances"].values()] == ["3.4", "7.2", "10.7"]
    # T = 0.4 x 3.44 + 0.4 x 7.23 + 0.2 x 10.67 = 6.402: 0.6 / 1.6402 + 0.4 = 0.7658...
    assert str(pair["score"]) == "0.766"


def test_the_flat_distance_shrinks_longitude_with_latitude():
    # 20 km due east at 45° N: a degree of longitude is cos(45°) of a degree of latitude.
    formation, job = item("formation", "f", at(0)), item("offer", "job", at(0, 20))
    [pair] = best_pairs([formation], [job], LEARNER, PARENTS, 30)
    assert pair["distances"]["formation_to_employer_km"] == 20.0
    assert best_pairs([formation], [job], LEARNER, PARENTS, 19.9) == []     # the limit uses the same distance


def test_an_unrelated_formation_does_not_hide_the_next_one():
    pastry = item("formation", "pastry", at(1), romes=("D1104",))
    bakery = item("formation", "bakery", at(2))
    unknown = item("formation", "unknown-code", at(1), romes=("Z9999",))     # not in the parents table
    job = item("offer", "job", at(1))
    assert order(best_pairs([pastry, bakery], [job], LEARNER, PARENTS, 30)) == [("bakery", "job")]
    z_job = item("offer", "z-job", at(1), romes=("Z9999",))
    assert order(best_pairs([unknown], [z_job], LEARNER, PARENTS, 30)) == [("unknown-code", "z-job")]


def test_a_far_pair_does_not_hide_the_next_one():
    far, near = item("formation", "far", at(-40)), item("formation", "near", at(2))
    job = item("offer", "job", at(1))
    assert order(best_pairs([far, near], [job], LEARNER, PARENTS, 30)) == [("near", "job")]


def test_a_formation_takes_three_employers_not_two():
    formation = item("formation", "f", at(0))
    jobs = [item("offer", f"o{i}", at(i + 1)) for i in range(5)]
    assert order(best_pairs([formation], jobs, LEARNER, PARENTS, 30)) == [("f", "o0"), ("f", "o1"), ("f", "o2")]


def test_twins_are_told_apart_by_title_words_company_and_town_only():
    formation = item("formation", "f", at(0))
    base = item("offer", "base", at(1), title="Boulanger  H/F", company="Fournil")
    spaced = item("offer", "spaced", at(1.1), title="boulanger h/f", company="FOURNIL")   # reads the same
    elsewhere = item("offer", "elsewhere", at(1.2), title="Boulanger H/F", company="Fournil")
    elsewhere["place"]["city"] = "Autre ville"
    no_town = item("offer", "no-town", at(1.3), title="Boulanger H/F", company="Fournil")
    no_town["place"]["city"] = None
    other_title = item("offer", "other-title", at(1.4), title="Boulanger-H/F", company="Fournil")
    pairs = best_pairs([formation], [base, spaced, elsewhere, no_town, other_title], LEARNER, PARENTS, 30)
    assert order(pairs) == [("f", "base"), ("f", "elsewhere"), ("f", "no-town")]
    # Without a company or a title, two items still read as their town: the second is a twin.
    bare = [item("offer", f"bare{i}", at(2 + i / 10)) for i in range(2)]
    for b in bare:
        b.pop("title"), b.pop("company")
    assert order(best_pairs([formation], bare, LEARNER, PARENTS, 30)) == [("f", "bare0")]


def test_codes_outside_the_parents_table_pair_only_with_themselves():
    school, job = item("formation", "f", at(1), romes=("Z9999",)), item("offer", "o", at(1), romes=("Z9998",))
    assert best_pairs([school], [job], LEARNER, PARENTS, 30) == []


def test_two_offers_of_one_company_in_one_town_with_other_titles_are_two_pairs():
    formation = item("formation", "f", at(0))
    baker = item("offer", "baker", at(1), title="Boulanger", company="Fournil")
    pastry = item("offer", "pastry", at(1.1), title="Pâtissier", company="Fournil")
    assert order(best_pairs([formation], [baker, pastry], LEARNER, PARENTS, 30)) == [("f", "baker"), ("f", "pastry")]
