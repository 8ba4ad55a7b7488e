"""Benchmark the métier and commune lookups in-process (what each autocomplete keystroke costs).

    .venv/bin/python bench/bench_lookups.py [--dataset var/dataset.sqlite] [--rounds 20]

Runs every query of a fixed list (typed prefixes of common métiers and places,
postal codes) through the same code the HTTP handlers call, after one warm-up
round, and prints p50 / p99 / max per lookup.  Results: bench/RESULTS-lookups.md.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import time
from pathlib import Path

from widget_server.ingest.build import build_dataset
from widget_server.referentials.communes import CommuneIndex
from widget_server.referentials.metiers import MetierIndex
from widget_server.settings import Settings
from widget_server.store.database import connect_readonly

METIERS = """boulanger pâtissier coiffeur esthéticienne cuisinier serveur vendeur vendeuse caissier
mécanicien automobile carrossier électricien plombier chauffagiste maçon menuisier charpentier peintre
couvreur carreleur plaquiste soudeur chaudronnier tourneur fraiseur technicien maintenance informaticien
développeur web réseau comptable assistant secrétaire commercial gestionnaire paie ressources humaines
infirmier aide soignant auxiliaire puériculture pharmacie préparateur opticien boucher charcutier
poissonnier fleuriste paysagiste jardinier agriculteur viticulteur logisticien magasinier cariste
chauffeur livreur ambulancier hôtesse réceptionniste agent sécurité animateur éducateur graphiste
photographe imprimeur électrotechnicien frigoriste ébéniste tapissier bijoutier horloger""".split()
METIER_PHRASES = ["aide soign", "agent de sec", "bts", "cap cuisine", "bac pro", "mécanicien auto",
                  "développeur web", "assistant comm", "conseiller vente", "technicien de maint",
                  "licence pro", "master", "titre pro", "employé commerce", "chef de rang"]
PLACES = """Paris Marseille Lyon Toulouse Nice Nantes Montpellier Strasbourg Bordeaux Lille Rennes Reims
Toulon Grenoble Dijon Angers Nîmes Villeurbanne Clermont-Ferrand Le-Mans Aix-en-Provence Brest Tours
Amiens Limoges Annecy Perpignan Metz Besançon Orléans Rouen Mulhouse Caen Nancy Argenteuil Roubaix
Avignon Poitiers Pau Calais Dunkerque Quimper Vannes Lorient Laval Cholet Niort Ajaccio Bastia Gap
Aurillac Guéret Mende Privas Foix Auch Cahors Rodez Tulle Vesoul Chaumont Épinal Bar-le-Duc""".split()
PLACE_PHRASES = ["st etienne", "ste foy", "saint denis", "aix en", "la roche", "le havre", "les sables",
                 "bourg en bresse", "chalon sur", "boulogne", "neuilly", "montreuil", "villeneuve"]
POSTAL = ["75015", "69003", "13001", "31000", "33000", "59000", "44000", "67000", "06000", "34000",
          "35000", "29200", "57000", "54000", "38000", "21000", "49000", "76000", "14000", "63000",
          "750", "69", "130", "2A", "971"]


def metier_queries() -> list[str]:
    queries = []
    for word in METIERS:
        queries += [word[:3], word[:5], word]
    return list(dict.fromkeys(queries + METIER_PHRASES))


def place_queries() -> list[str]:
    queries = []
    for name in PLACES:
        queries += [name[:3], name[:5], name]
    return list(dict.fromkeys(queries + PLACE_PHRASES + [p for p in POSTAL if p.isdigit()]))


def measure(search, queries: list[str], rounds: int, warm: bool = True) -> list[float]:
    if warm:
        for q in queries:
            search(q)  # warm-up: what a running server has already cached
    times = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            search(q)
            times.append((time.perf_counter() - t) * 1000)
    return times


def describe(name: str, times: list[float], n: int) -> str:
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    return f"| {name} | {n} | {len(times)} | {p50:.3f} | {p99:.3f} | {times[-1]:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=Settings.from_env().dataset_path)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if not args.dataset.exists():
        build_dataset(Settings.from_env().data_dir, args.dataset)
    conn = connect_readonly(args.dataset)
    t = time.perf_counter()
    metiers = MetierIndex(conn)
    communes = CommuneIndex(conn)
    load = time.perf_counter() - t
    mq, pq = metier_queries(), place_queries()
    print(f"machine: {platform.machine()}, {platform.processor() or platform.platform()}, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"index load: {load:.2f} s; {len(mq)} métier + {len(pq)} commune queries, {args.rounds} rounds")
    print("| lookup | distinct queries | calls | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    # Cold: a fresh index, each query once, nothing cached yet (first keystrokes after a start).
    print(describe("métiers, cold", measure(MetierIndex(conn).search, mq, 1, warm=False), len(mq)))
    print(describe("communes, cold", measure(CommuneIndex(conn).search, pq, 1, warm=False), len(pq)))
    print(describe("métiers, warm", measure(metiers.search, mq, args.rounds), len(mq)))
    print(describe("communes, warm", measure(communes.search, pq, args.rounds), len(pq)))


if __name__ == "__main__":
    main()
