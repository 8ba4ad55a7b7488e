"""Realistic La Bonne Alternance widget URLs (host changed), with what each must show.

(path and query, métier shown in the summary, place shown (None: France-wide), sections shown)
Built from LBA's partner guide, its tester's outputs and the parameters partners' pages
carried (docs: /work/shared/research/lba-anchor.md, 1.2).
"""

ALL = ["formations", "offers", "recruiters"]
JOB = ["offers", "recruiters"]
TRAINING = ["formations"]

LBA_URLS = [
    ("/recherche-apprentissage?romes=F1702,F1705,F1701&lat=47&lon=2.2&radius=60", "voiries", "(18)", ALL),
    ("/recherche-apprentissage?radius=60&romes=F1702,F1705,F1701&scope=all&lat=47&lon=2.2"
     "&caller=ID_service_appelant_labonnealternance&return_uri=/&return_logo_url=/static/logo-partenaire.png",
     "voiries", "(18)", ALL),
    ("/recherche-apprentissage?caller=adresse_contact@mail.com identifiant_appelant&romes=D1102", "Boulanger", None, ALL),
    ("/recherche-apprentissage?caller=contact%40mon-cfa.fr&romes=D1102&lat=45.764&lon=4.8357", "Boulanger", "Lyon", ALL),
    ("/recherche-emploi?caller=Mission Locale Lyon&romes=D1102&lat=45.764&lon=4.8357&radius=30", "Boulanger", "Lyon", JOB),
    ("/recherche-apprentissage-formation?romes=D1102&lat=45.764&lon=4.8357&scope=training", "Boulanger", "Lyon", TRAINING),
    ("/recherche-emploi?romes=M1805&lat=48.8566&lon=2.3522&scope=all", "informatique", "Paris", JOB),
    ("/recherche-apprentissage?romes=M1805&lat=48,8566&lon=2,3522&radius=10", "informatique", "Paris", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&insee=69123&zipcode=69001", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&radius=20000", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&radius=20000", "Boulanger", None, ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&radius=100&display=list", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&display=map&displayMap=true", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&returnURI=/retour", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&return_url=https://partenaire.fr/", "Boulanger",
     "Lyon", ALL),
    ("/recherche-emploi?romes=D1102&lat=45.764&lon=4.8357&opco=akto", "Boulanger", "Lyon", JOB),
    ("/recherche-emploi?romes=D1102&lat=45.764&lon=4.8357&opcoUrl=www.jecompte.fr", "Boulanger", "Lyon", JOB),
    ("/recherche-apprentissage?caller=cfa&romes=D1102&job_name=Boulanger en alternance&frozen_job=1&lat=45.764"
     "&lon=4.8357", "Boulanger en alternance", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&job_name=Boulangerie&lat=45.764&lon=4.8357&insee=69123&zipcode=69001"
     "&address=Lyon", "Boulangerie", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&utm_source=partenaire&utm_medium=iframe"
     "&utm_campaign=widget", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&diploma=3 (CAP...)", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&diploma=INDIFFERENT", "Boulanger", "Lyon", ALL),
    ("/recherche-formation?romes=G1602&lat=43.2965&lon=5.3698&radius=30", "cuisine", "Marseille", TRAINING),
    ("/recherche?romes=J1501&lat=50.6292&lon=3.0573&radius=60&caller=Région Hauts-de-France", "Aide-soignant", "Lille", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&mode=debug&s=1700000000000", "Boulanger", "Lyon", ALL),
    ("/recherche-apprentissage?romes=d1102&lat=45.764&lon=4.8357&showCombinedJob=false&activeItems=", "Boulanger",
     "Lyon", ALL),
    ("/recherche-apprentissage?romes=D1102&lat=45.764&lon=4.8357&radius=100&diploma=4 (BAC...)&caller=1jeune1solution",
     "Boulanger", "Lyon", ALL),
    ("/recherche-emploi?romes=F1702&insee=33063&caller=onisep", "voiries", "Bordeaux", JOB),
]
