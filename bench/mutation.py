"""Mutation testing of the core modules with mutmut, against their fast targeted tests.

    .venv/bin/python bench/mutation.py [MODULE ...] [--survivors] [--children N] [--list] [--planted]
                                       [--report-only]

Each module of MODULES is mutated on its own, in its own work folder under var/mutation/
(git-ignored): a generated pyproject.toml holding only mutmut's settings, and links to the
project's widget_server/, tests/, data/ and embed_examples/. mutmut first runs the module's test
files once to learn which test reaches which function (again at every run, so edited tests
count), then runs, for each mutant, only the tests that reach the mutated function, under `nice`.
mutmut keeps the verdict of a mutant whose function did not change: after writing tests, run
again with `--survivors` so the survivors meet them.

`--planted` plants the five bugs of issue 16 one at a time (in a copy of the package) and runs
the tests named for each: every one must fail, and pass on an unchanged copy.

Each module's last run is saved in bench/mutation/<module>.json (counts and survivors), and
bench/RESULTS-mutation.md is written from those: score per module, surviving mutants with the
reason each is acceptable (EQUIVALENT below) or "not explained yet". Not part of .ci/run: a full
run takes about two hours on 2 cores. To add a module: one line in MODULES (its path and its fast
test files).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "mutation"
RESULTS = ROOT / "bench" / "RESULTS-mutation.md"
RECORDS = ROOT / "bench" / "mutation"          # one JSON per module: its last run's counts and survivors
MUTMUT = Path(sys.executable).parent / "mutmut"

KILLED = ("killed", "timeout", "caught by type check")
ALIVE = ("survived", "no tests")

# module -> the fast test files that are about it (browser, fuzz and slow tests stay out).
MODULES: dict[str, list[str]] = {
    "widget_server/combinations.py": ["tests/test_combinations.py"],
    "widget_server/web/rate_limit.py": ["tests/test_rate_limit.py"],
    "widget_server/web/security_headers.py": ["tests/test_security_headers.py"],
    "widget_server/partners.py": ["tests/test_partners.py"],
    "widget_server/store/geo.py": ["tests/store/test_geo.py"],
    "widget_server/query.py": ["tests/test_query.py"],
    "widget_server/search.py": ["tests/test_search.py", "tests/test_search_outcomes.py"],
    "widget_server/web/search_api.py": ["tests/test_search_endpoint.py", "tests/test_search.py", "tests/test_metrics.py"],
    "widget_server/ingest/importer.py": ["tests/ingest/test_import_report.py", "tests/ingest/test_importers.py"],
    # test_catalogue.py loads the national referentials (a minute): the rules run on small ones here.
    "widget_server/ingest/catalogue/merge.py": ["tests/ingest/test_merge_rules.py"],
    "widget_server/ingest/catalogue/outcomes.py": ["tests/ingest/test_outcomes.py"],
    "widget_server/lba/mapping.py": ["tests/lba/test_lba_mapping.py", "tests/lba/test_lba_api.py",
                                     "tests/lba/test_lba_samples_contract.py"],
}

# Modules that take no part in building a dataset: their tests may reuse the hand-made datasets
# of tests/datasets.py (and the importers' trimmed copy) built once (a mutant of the others must be
# built with).
BUILD_FREE = {"widget_server/ingest/importer.py", "widget_server/query.py", "widget_server/search.py", "widget_server/web/search_api.py",
              "widget_server/combinations.py", "widget_server/web/rate_limit.py",
              "widget_server/web/security_headers.py", "widget_server/partners.py", "widget_server/lba/mapping.py"}

# The five bugs the audit of issue 16 planted, and the tests that must now catch each.
PLANTED = [
    ("sources awaited one after another", "widget_server/search.py",
     "    (local_results, market, suggested), *remote_outcomes = await asyncio.gather(\n"
     "        _local_guarded(dataset, query, local, budget_s) if local else _nothing(),\n"
     "        *(_guarded(sources[b], dataset, query, budget_s) for b in remote))",
     "    (local_results, market, suggested), *remote_outcomes = [\n"
     "        await (_local_guarded(dataset, query, local, budget_s) if local else _nothing()),\n"
     "        *[await _guarded(sources[b], dataset, query, budget_s) for b in remote]]",
     ["tests/test_search.py::test_two_hanging_sources_share_one_budget",
      "tests/test_search.py::test_sources_run_concurrently_not_one_after_another"]),
    ("any If-None-Match answered 304", "widget_server/web/search_api.py",
     "        if cached.etag in _if_none_match(request):",
     "        if _if_none_match(request):",
     ["tests/test_search.py::test_identical_queries_are_cached_with_etag_and_304"]),
    ("refill not capped at the burst", "widget_server/web/rate_limit.py",
     "min(burst, bucket[0] + (now - bucket[1]) * rate)",
     "bucket[0] + (now - bucket[1]) * rate",
     ["tests/test_rate_limit.py::test_refill_stops_at_the_burst"]),
    ("0.5 factor of predicted recruiters dropped", "widget_server/combinations.py",
     "    return 0.5 * employer[\"recruiter\"][\"hiring_score\"] / 100.0",
     "    return employer[\"recruiter\"][\"hiring_score\"] / 100.0",
     ["tests/test_combinations.py::test_a_predicted_recruiter_counts_half_an_offer",
      "tests/test_combinations.py::test_the_half_weight_of_a_prediction_orders_recruiters"]),
    ("radius limit raised from 200 to 20000 km", "widget_server/query.py",
     "DEFAULT_RADIUS, MAX_RADIUS = 30, 200",
     "DEFAULT_RADIUS, MAX_RADIUS = 30, 20000",
     ["tests/test_search.py::test_parameter_errors", "tests/test_fuzz_api.py::test_the_contract_states_the_documented_bounds"]),
    # Beyond the five: validation dropped while the contract still states the bound (what the
    # fuzzer's negative-data check is for).
    ("(extra) limit no longer checked, contract unchanged", "widget_server/query.py",
     "    limit = r.integer(\"limit\", lo=1, hi=MAX_LIMIT, default=DEFAULT_LIMIT)",
     "    limit = r.integer(\"limit\", lo=1, hi=10**9, default=DEFAULT_LIMIT)",
     ["tests/test_fuzz_api.py::test_values_beyond_a_stated_bound_are_refused", "tests/test_query.py::test_integer_bounds"]),
]

# Surviving mutants that are acceptable, and why (mutant name -> reason). Filled by reading
# each survivor (`mutmut show NAME` in its work folder); a survivor not listed here is a gap.
_CODEC_NAMES = "codec names are case-insensitive: 'UTF-8' is 'utf-8'."
C = "widget_server.combinations."
_PLACEHOLDER = ("a missing field reads the same placeholder on both items, whatever the placeholder: "
                "twins stay twins and different items stay different")
EQUIVALENT: dict[str, str] = {
    C + "x__score__mutmut_4": "d_f and d_e are None together (no learner: France-wide) or neither is: `or` and `and` agree.",
    C + "x__reads_as__mutmut_10": _PLACEHOLDER,
    C + "x__reads_as__mutmut_14": "words joined by another separator: still one string per word sequence (words hold no space).",
    C + "x__reads_as__mutmut_17": _PLACEHOLDER,
    C + "x__reads_as__mutmut_19": _PLACEHOLDER,
    C + "x__reads_as__mutmut_22": _PLACEHOLDER,
    C + "x__reads_as__mutmut_30": _PLACEHOLDER,
    C + "x_best_pairs__mutmut_44": "only the order of the tiers matters (0 before 1 or 2).",
    C + "x_best_pairs__mutmut_65": "d_fe == limit exactly, a float distance equal to the radius, does not occur; "
                                   "pairs at 19.9 vs 20.0 km are tested.",
    C + "x_best_pairs__mutmut_81": "the first four keys (tier, score, formation id, employer id) are unique: the "
                                   "rest of the tuple is never compared.",
    C + "x_best_pairs__mutmut_83": "same: a fifth key is never reached.",
    C + "x_best_pairs__mutmut_93": "per_formation.get(fid, 1) >= 3 is false for an absent formation as 0 >= 3 is.",
    C + "x_best_pairs__mutmut_118": "MAX_PER_EMPLOYER is 1: any count above 0 blocks the employer, so the count's "
                                    "exact value is never read.",
    C + "x_best_pairs__mutmut_122": "same: 2 blocks as 1 does.",
    C + "x_best_pairs__mutmut_123": "same: 2 blocks as 1 does.",
}
R = "widget_server.web.rate_limit."
_LOWER = "Starlette's Headers lower-case the name they are asked for: 'ORIGIN' finds 'origin'."
_ASGI = "an ASGI http scope always has query_string: the default is never used."
EQUIVALENT.update({
    R + "xǁTokenBucketsǁ__init____mutmut_17": "the TTL of a disabled bucket set (rate 0: enabled is false, "
                                              "take() never called).",
    R + "xǁTokenBucketsǁ__init____mutmut_30": "a TTL floor of 2 s instead of 1 s only keeps buckets that "
                                              "refill in under a second longer: a bucket kept past its full "
                                              "refill is full either way.",
    R + "xǁRateLimitMiddlewareǁ__init____mutmut_24": "the per-caller TTL when per-caller limits are off "
                                                     "(same as above).",
    R + "xǁRateLimitMiddlewareǁ__call____mutmut_16": "wait = None or 0.0: both falsy, and every path that "
                                                     "sets wait sets a float.",
    R + "xǁRateLimitMiddlewareǁ__call____mutmut_55": "error_response never reads the request body: receive "
                                                     "is unused.",
    R + "xǁRateLimitMiddlewareǁ__call____mutmut_69": "no route behind the limiter reads a request body (GET "
                                                     "only): receive is never called. A POST route would kill it.",
    R + "x_from_partner_page__mutmut_5": _LOWER,
    R + "x_from_partner_page__mutmut_9": _LOWER,
    R + "x_from_partner_page__mutmut_22": _LOWER,
    R + "x_client_address__mutmut_6": _LOWER,
    R + "x_from_partner_page__mutmut_35": _ASGI,
    R + "x_from_partner_page__mutmut_37": _ASGI,
    R + "x_from_partner_page__mutmut_40": _ASGI,
    R + "x_from_partner_page__mutmut_52": "reached only when parent is non-empty: `parent or ...` is parent.",
    R + "x__referer_origin__mutmut_5": "a non-web or host-less Referer then becomes 'ftp://h' or 'https://', "
                                       "which no partner origin allows (Partner.allows parses it): same answer.",
    R + "x__referer_origin__mutmut_6": "same: 'https://' (no host) is allowed by no partner.",
    R + "x__is_own_host__mutmut_5": "partition and rpartition differ only for an origin holding '://' twice, "
                                    "which no browser sends.",
    R + "x_client_address__mutmut_16": "with exactly proxy_hops entries, entries[-proxy_hops] is entries[0].",
    R + "x_client_key__mutmut_21": "strict=None is falsy like strict=False.",
})

M = "widget_server.ingest.catalogue.merge."
O = "widget_server.ingest.catalogue.outcomes."
EQUIVALENT.update({
    M + "xǁMergerǁ_best__mutmut_9": "a 0/1 part of the score tuple scaled to 0/2: tuples compare in the same order.",
    M + "xǁMergerǁ_best__mutmut_20": "same, for the identical-Certif-Info part.",
    M + "xǁMergerǁorganisation_key__mutmut_7": "a missing UAI gives None instead of '': both falsy, the "
                                               "directory is asked next either way.",
    M + "xǁMergerǁorganisation_key__mutmut_9": "same: .get(uai) is None when missing.",
    O + "x__pct__mutmut_7": "'XXXX' fails float() as '' does: None either way.",
    O + "x__count__mutmut_3": "'XXXX' is no number, as '' is not: None either way.",
    O + "xǁOutcomesǁfor_training__mutmut_13": "every loaded figure has a period: pop never misses.",
})

P = "widget_server.partners."
EQUIVALENT.update({
    P + "xǁPartnerRegistryǁget__mutmut_2": "looking up a falsy caller (None or '') finds nothing as skipping "
                                           "the lookup does: no partner has an empty name (CALLER_RE).",
    P + "x_load_partners__mutmut_3": "encoding=None reads with the locale's encoding, UTF-8 wherever this runs "
                                     "(Python coerces the C locale to UTF-8): the same text.",
    P + "x_load_partners__mutmut_5": _CODEC_NAMES,
})

G = "widget_server.store.geo."
_SQL_CASE = "SQL keywords and column names are case-insensitive: the same statement."
_JOIN = ("joining the item table when no condition needs it: every index entry has its item (both are "
         "written together), so the join drops nothing; it is skipped only to save time.")
EQUIVALENT.update({
    **{G + f"x_find_nearby__mutmut_{n}": _SQL_CASE for n in (16, 18, 32, 34, 36, 38, 77)},
    **{G + f"x_geo_entries__mutmut_{n}": _SQL_CASE for n in (7, 8)},
    G + "x_france_wide__mutmut_41": _SQL_CASE,
    G + "x_find_nearby__mutmut_42": _JOIN,
    G + "x_france_wide__mutmut_20": _JOIN,
    G + "x__families__mutmut_40": "`whole family` only spares the exact-code filter: with `>` a query naming a "
                                  "whole family is also filtered by every code of that family, which keeps the "
                                  "same entries (items carry known codes only).",
    G + "x_bounding_box__mutmut_14": "at exactly 89.9 degrees both branches give a box holding the disc "
                                     "(the longitude span is then finite and below 180).",
    G + "x_bounding_box__mutmut_25": "at exactly 180 degrees each side both boxes cover every longitude.",
    G + "x_find_nearby__mutmut_11": "callers give both coordinates or neither (a SearchQuery has a point or "
                                    "none): `or` and `and` agree on what they are given.",
    **{G + f"x__within__mutmut_{n}": "the haversine term reaches 1 only for antipodal points (20,000 km "
       "apart), never for a centre and an item in France and its overseas departments; below 1 every "
       "variant takes sqrt(a)." for n in (38, 40, 41, 42)},
})

L = "widget_server.lba.mapping."
EQUIVALENT.update({
    L + "x_formation__mutmut_222": "labels=None is falsy as labels=False is: the same codes without labels.",
})

SE = "widget_server.search."
EQUIVALENT.update({
    SE + "x_run_search__mutmut_13": "with no local source, running the local batch anyway on nothing gives no "
                                    "results and the same market, which is then computed again: the same answer.",
    **{SE + f"x__local_guarded__mutmut_{n}": "asyncio.timeout cancels the awaiting task itself; anyio's "
       "shield (abandon_on_cancel false) holds only against anyio's own cancel scopes, so the answer "
       "returns at the budget either way (measured: 0.3 s both ways; the stuck-source test passes on both)."
       for n in (6, 11, 12)},
    SE + "x_run_search__mutmut_125": "took_ms scaled by 1.001 instead of 1: a timing 0.1 % off is within what any "
                                     "test can tell from the wall clock.",
    **{SE + f"x_describe_query__mutmut_{n}": "parse_search_query refuses a ROME code the labels do not know: "
       "the default of labels.get is never used." for n in (41, 42, 43)},
})



# Survivors of the last run that a test written after it kills (each checked by planting the mutant
# by hand): still counted as survived until the next run.
KILLED_SINCE: dict[str, str] = {
    **{f"widget_server.ingest.importer.x_import_file__mutmut_{n}": "killed since by tests/ingest/test_importers.py::"
       "test_format_names_are_taken_with_hyphens_as_the_command_spells_them (written after the run; the mutant "
       "planted by hand fails it)." for n in (29, 30)},
}

NOTES = """## What the runs leave out

- Each module is mutated against the test files listed in MODULES, not the whole suite: a
  mutant those files miss may be killed elsewhere (the browser, fuzz or HTTP tests), and is
  still counted as survived here.
- mutmut runs, for each mutant, only the tests that reached the mutated function in a traced run
  of those files (traced again at every run, so an edited test counts); one or two mutants at a
  time, under `nice -n 15`.
- Code reached only in a subprocess (the killed-import tests, the abuse tests' real server) is
  invisible to mutmut: its mutants count as survived unless an in-process test kills them.
- State shared between tests hides code from the trace: a test answered from the search cache
  filled by an earlier one was not traced into the search (so its mutants were never run against
  it). Each test now starts with an empty search cache (tests/conftest.py). Module-scoped fixtures
  remain: a function called only while a fixture is built is traced to the first test using it,
  which is why the tests of geo_entries() call it directly.
- The importer's run was stopped before its end, to fit the session: the mutants "not run" in
  its row are in import_file, the slowest (each meets up to 21 import tests, 25 s a mutant);
  they are left out of its score. import_file and _parse changed after the run (an unused
  parameter removed), so `python bench/mutation.py --children 2 widget_server/ingest/importer.py`
  mutates those two again from the start and keeps the other functions' verdicts.
- combinations, rate_limit, security_headers, catalogue merge and outcomes were run in the
  previous session (their work folders are gone; the records were rebuilt from that session's
  report, as each JSON says); their tests have not changed since.
- mutmut ran under `nohup` here, which its children inherit: a test that counts on SIGHUP ending
  a process restores it (tests/ingest/test_importers.py, stale copies).

## Found along the way

- `romes= , ` (commas and spaces only) tripped the assert at the end of parse_search_query: a
  500 under uvicorn. It is now the "missing" error (tests/test_query.py, tests/test_search.py).
- tests/store/test_geo.py accepted "no encoded entry" as well as "all encoded": since index_items
  writes geo_entries(), it now requires every entry encoded (the check ran on nothing otherwise).
- "Élargir à N km" did not keep its word: the suggested radius ignored the diploma asked for, so
  a CAP nearby made it suggest 60 km to someone looking for a BP that was 90 km away. The
  suggestion now runs with the search's own filters (sources/store.py, suggest_radius), and
  tests/test_search.py::test_a_suggested_radius_keeps_its_word searches again at each radius
  offered (it fails on the old code).
- The search cache leaked answers from one test to the next (see above): fixed in conftest.
- Dead code the survivors pointed at, removed: PartnerRegistry.mode (never read), the "cached"
  key CachedAnswer.of left out of a meta that never has it; SourceFailure is a plain value.
- Two slow set-ups made faster while making the runs fit: text.fold() folds through a
  per-character table (loading a dataset's referentials 2.7 -> 1.3 s, profiled), and the importer
  tests import into a one-in-ten copy of the session dataset (40-56 -> 24 s)."""

S = "widget_server.web.security_headers."
_CODEC = "codec names are case-insensitive: 'LATIN-1' is 'latin-1'."
_NAME = ("Starlette lower-cases the header names of a Response, MutableHeaders and Headers "
         "lookups: the name's case never reaches the wire or the lookup.")
_RAW_NAME = ("an upper-case raw name added by the middleware itself (not compared with a handler's): "
             "HTTP header names are case-insensitive, browsers read it the same.")
_RECEIVE = "nothing behind this middleware reads a request body (GET only): receive is never called."
EQUIVALENT.update({
    **{S + f"xǁSecurityHeadersMiddlewareǁ__init____mutmut_{n}": _CODEC for n in (9, 23, 27)},
    S + "xǁSecurityHeadersMiddlewareǁ__call____mutmut_56": _RAW_NAME,
    S + "xǁSecurityHeadersMiddlewareǁ__call____mutmut_73": _RECEIVE,
    S + "xǁPartnerAccessMiddlewareǁ__call____mutmut_42": "error_response never reads the request body.",
    **{S + f"xǁPartnerAccessMiddlewareǁ__init____mutmut_{n}": _NAME for n in (9, 10, 14, 15, 20, 21, 24, 25)},
    **{S + f"xǁPartnerAccessMiddlewareǁ__call____mutmut_{n}": _NAME for n in (22, 36, 61, 67)},
    **{S + f"xǁPartnerAccessMiddlewareǁ__call____mutmut_{n}": _NAME for n in (68, 90, 91, 97, 98)},
    S + "xǁPartnerAccessMiddlewareǁ__call____mutmut_70": _RECEIVE,
    S + "xǁPartnerAccessMiddlewareǁ__call____mutmut_110": _RECEIVE,
    S + "xǁSecurityHeadersMiddlewareǁ__call____mutmut_46": "the default content type is only compared with "
                                                           "b'text/html': b'' and b'XXXX' both are not HTML.",
    S + "x__same_origin__mutmut_3": "partition and rpartition differ only for an origin holding '://' twice.",
})

Q = "widget_server.query."
EQUIVALENT.update({
    Q + "x__centre__mutmut_53": "communes.get('') finds no commune, as skipping the lookup does: named stays None.",
    Q + "x__centre__mutmut_67": "the nearest commune is looked up even when one is named; `named or nearest[0]` "
                                "still takes the named one (a lookup more, the same answer).",
    Q + "x__centre__mutmut_125": "by_postal_code finds nothing for a value that is not 5 digits: the regex only "
                                 "spares the lookup.",
    Q + "x_parse_search_query__mutmut_35": "caller None or '' after a bad format: an error is recorded, so "
                                           "raise_if_errors raises before the caller is read.",
    **{Q + f"x_parse_search_query__mutmut_{n}": "the assert is reached only without errors, when every part is "
       "truthy: `and`/`or` give the same (it documents, it does not check)." for n in range(98, 104)},
    Q + "x__centre__mutmut_121": "by_postal_code matches exact postal codes, all of 5 digits: anything else "
                                 "finds nothing, as the skipped lookup does.",
})

A = "widget_server.web.search_api."
EQUIVALENT.update({
    **{A + f"xǁSearchEndpointǁhandle__mutmut_{n}": _NAME for n in (37, 38, 40, 41, 46, 47)},
    **{A + f"xǁSearchEndpointǁhandle__mutmut_{n}": "Vary lists header names, which are case-insensitive: "
       "'accept-encoding' is 'Accept-Encoding' to every cache." for n in (43, 44)},
    A + "xǁSearchEndpointǁhandle__mutmut_70": "media types are case-insensitive: 'APPLICATION/JSON' is "
                                              "'application/json' to every client.",
    A + "xǁSearchEndpointǁbody__mutmut_6": "a fresh answer read back from its own cached bytes is an equal dict "
                                           "(the same parts and values): only slower.",
    A + "xǁSearchEndpointǁhandle__mutmut_51": "cache directives are case-insensitive (RFC 9111, 5.2): "
                                              "'NO-STORE' is 'no-store'.",
    A + "x__if_none_match__mutmut_7": _LOWER.replace("'ORIGIN' finds 'origin'", "'IF-NONE-MATCH' finds 'if-none-match'"),
    A + "x__if_none_match__mutmut_8": "without the header, a default of 'XXXX' is a tag no answer has: "
                                      "nothing matches, as with ''.",
})

I = "widget_server.ingest.importer."
EQUIVALENT.update({
    **{I + f"x__write_copy__mutmut_{n}": _SQL_CASE
       for n in (9, 10, 13, 14, 21, 22, 48, 49, 58, 59, 108, 109, 114, 115)},
    **{I + f"x__write_copy__mutmut_{n}": "the import stamp is read back with json.loads: escaped or not, keys "
       "sorted or not, the same object." for n in (95, 96)},
    I + "x__write_copy__mutmut_102": "re-indexing the kinds the import did not change as well gives the same "
                                     "indexes (it is skipped to save time).",
    **{I + f"{f}__mutmut_{n}": "data_dir None falls back to the settings' data folder, which is the folder "
       "the tests pass: the same referentials." for f, n in (("x__parse", 13), ("x__parse_bounded", 6))},
    I + "x__parse_bounded__mutmut_1": "_parse never reads `table` (a parameter left from an older signature; "
                                      "removed after this run).",
    **{I + f"x_detect_format__mutmut_{n}": "an unknown kind fails with the same KeyError either way, and "
       "import_file refuses it before (its kinds are checked first)." for n in (3, 4, 5)},
    I + "x_detect_format__mutmut_12": "one byte more of the head: the header line is read up to its first "
                                      "newline, and no signature column starts at byte 4096.",
    **{I + f"x_detect_format__mutmut_{n}": "the first line is the part before the first newline however many "
       "further splits are made." for n in (25, 28)},
    I + "x_detect_format__mutmut_31": "codec names are case-insensitive: 'UTF-8' is 'utf-8'.",
    I + "x_detect_format__mutmut_36": "the header is lower-cased first: stripping 'X' as well as '\"' strips "
                                      "nothing more.",
    **{I + f"x__remove_stale_temporaries__mutmut_{n}": "the process id is what comes before the first '.tmp' "
       "(names are .NAME.PID.tmp or .NAME.PID.tmp-journal): every split gives it." for n in (7, 8, 11)},
    **{I + f"x__remove_stale_temporaries__mutmut_{n}": "the file was just listed by glob: it is missing only "
       "if another process removed it in between." for n in (24, 25)},
    **{I + f"x__pause__mutmut_{n}": "not killable in process: flushing matters only when stderr is a pipe, "
       "which it is in the killed-import tests, run as subprocesses mutmut does not see (they would fail: "
       "the parent waits for the line)." for n in (13, 16, 17)},
    I + "x__line__mutmut_8": "a default that ends in no digit reads as line 0, as '' does.",
    **{I + f"x__line__mutmut_{n}": "every `_where` is words and a number joined by single spaces (the readers "
       "write them): the last space-separated part is the same whichever split takes it."
       for n in (12, 15, 18, 19)},
    **{I + f"x_run_import_command__mutmut_{n}": "ensure_ascii=None is falsy as ensure_ascii=False is: UTF-8 kept."
       for n in (31, 64)},
    I + "x__write_copy__mutmut_31": "replace=None is falsy as replace=False is: known organisations kept.",
    **{I + f"x__write_copy__mutmut_{n}": "the import stamp is read back with json.loads: escaped or not, keys "
       "sorted or not, the same object." for n in (62, 63, 65, 66)},
})


def _link_tree(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for name in ("widget_server", "tests", "data", "embed_examples"):
        link = work / name
        if not link.exists():
            link.symlink_to(ROOT / name)


def _slug(module: str) -> str:
    return module.removeprefix("widget_server/").removesuffix(".py").replace("/", ".")


def _mutant_prefix(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".") + "."


def _config(module: str, tests: list[str]) -> str:
    def toml_list(values: list[str]) -> str:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"

    return f"""# Generated by bench/mutation.py for {module}: mutmut's settings only.
[tool.mutmut]
source_paths = ["widget_server"]
only_mutate = ["{module}"]
also_copy = ["data", "embed_examples"]
pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider", "-q", "-W", "ignore::DeprecationWarning"]
pytest_add_cli_args_test_selection = {toml_list(tests)}
use_git_change_detection = false
timeout_multiplier = 5.0
timeout_constant = 10.0

[tool.pytest.ini_options]
testpaths = ["tests"]
markers = ["browser: drives a real Chromium", "slow: takes more than a few seconds"]
"""


def _dataset(work_root: Path) -> Path:
    """The default dataset, built once for every run (tests reuse it through WIDGET_TEST_DATASET)."""
    path = work_root / "dataset.sqlite"
    if not path.exists():
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                        "from widget_server.ingest.build import build_dataset; "
                        "build_dataset(Path(sys.argv[1]), Path(sys.argv[2]))", str(ROOT / "data"), str(path)],
                       check=True)
    return path


def run_module(module: str, fresh: bool, survivors_only: bool = False, children: int = 1,
               only: tuple[str, ...] = ()) -> dict | None:
    work = WORK / _slug(module)
    if fresh and work.exists():
        shutil.rmtree(work)
    _link_tree(work)
    (work / "pyproject.toml").write_text(_config(module, MODULES[module]))
    # No pytest plugins from entry points (schemathesis alone costs a second per mutant): the fast
    # tests use none of them.
    env = {**os.environ, "WIDGET_TEST_DATASET": str(_dataset(WORK)), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    if module in BUILD_FREE:
        env["WIDGET_TEST_DATASET_CACHE"] = str(WORK / "datasets")
        (WORK / "datasets").mkdir(exist_ok=True)
    # After new tests: run again only the mutants that survived (mutmut learns the new tests first).
    names = [n for n, s in _live_statuses(module).items() if s in ALIVE] if survivors_only else []
    if only:
        # With --survivors: those survivors; alone: every mutant not killed yet (not run, or survived).
        pool = names if survivors_only else [n for n, s in _live_statuses(module).items() if s not in KILLED]
        names = [n for n in pool if any(fnmatch.fnmatch(n, pattern) for pattern in only)]
    if (survivors_only or only) and not names:
        print(f"== {module}: no survivor to run again", flush=True)
        return record(module)
    # mutmut traces again only tests it has never seen: a test edited since must be traced too.
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    print(f"== {module}: mutmut run ({' '.join(MODULES[module])}){f' on {len(names)} survivors' if names else ''}",
          flush=True)
    subprocess.run(["nice", "-n", "15", str(MUTMUT), "run", "--max-children", str(children), *names], cwd=work, env=env,
                   stdout=subprocess.DEVNULL, check=False)
    return record(module)


def _live_statuses(module: str) -> dict[str, str]:
    """mutant name -> status, from the module's work folder (empty if it was never run here)."""
    work = WORK / _slug(module)
    if not (work / "mutants").exists():
        return {}
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=work, capture_output=True, text=True).stdout
    prefix = _mutant_prefix(module)
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+): (.+)$", line)
        if m and m.group(1).startswith(prefix):
            found[m.group(1)] = m.group(2).strip()
    return found


def _record_path(module: str) -> Path:
    return RECORDS / f"{_slug(module)}.json"


def record(module: str) -> dict | None:
    """Save the last run of `module` from its work folder to bench/mutation/ (committed, so the
    report can be rewritten on any checkout), and return the saved record."""
    found = _live_statuses(module)
    if not found:
        return None
    counts: dict[str, int] = {}
    for status in found.values():
        counts[status] = counts.get(status, 0) + 1
    alive = sorted(n for n, s in found.items() if s in ALIVE)
    # The run's date: when mutmut last wrote a result, not when this report is written.
    metas = list((WORK / _slug(module) / "mutants").rglob("*.meta"))
    when = dt.date.fromtimestamp(max(m.stat().st_mtime for m in metas)) if metas else dt.date.today()
    saved = {"module": module, "tests": MODULES[module], "date": when.isoformat(),
             "mutmut": "3.8.1", "counts": dict(sorted(counts.items())),
             "survivors": {n: {"status": found[n], "diff": show(module, n)} for n in alive}}
    RECORDS.mkdir(exist_ok=True)
    _record_path(module).write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n")
    return saved


def saved_record(module: str) -> dict | None:
    path = _record_path(module)
    return json.loads(path.read_text()) if path.exists() else None


def show(module: str, name: str) -> str:
    work = WORK / _slug(module)
    text = subprocess.run([str(MUTMUT), "show", name], cwd=work, capture_output=True, text=True).stdout
    diff = [ln for ln in text.splitlines() if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
    return " / ".join(ln.strip() for ln in diff)[:300]


def planted() -> list[tuple[str, list[str], bool]]:
    """Plant each bug in a copy of the package and run its tests: (bug, tests, all of them failed)."""
    outcome = []
    # The control: the same tests on an unchanged copy pass (a failure below is the bug's, not the copy's).
    control = [("control: no bug planted", PLANTED[0][1], "", "", [t for *_, tests in PLANTED for t in tests])]
    for title, path, old, new, tests in control + PLANTED:
        work = WORK / "planted"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        shutil.copytree(ROOT / "widget_server", work / "widget_server")
        shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
        for name in ("tests", "data", "embed_examples"):
            (work / name).symlink_to(ROOT / name)
        target = work / path
        source = target.read_text()
        if old:
            assert source.count(old) == 1, f"{title}: the line to change is not in {path} any more"
            target.write_text(source.replace(old, new))
        failed = []
        for test in tests:
            # The planted bugs take no part in building a dataset: the tests may share one.
            env = {**os.environ, "PYTHONPATH": str(work), "WIDGET_TEST_DATASET": str(_dataset(WORK))}
            run = subprocess.run(["nice", "-n", "15", sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly",
                                  "-p", "no:cacheprovider", test], cwd=work, env=env,
                                 capture_output=True, text=True)
            failed.append(run.returncode == 1)
            verdict = ("passes" if run.returncode == 0 else "FAILS") + ("" if old else " (control)")
            print(f"   {title}: {test} {verdict}", flush=True)
        outcome.append((title, tests, all(failed) if old else not any(failed)))
    RECORDS.mkdir(exist_ok=True)
    (RECORDS / "planted.json").write_text(json.dumps({"date": dt.date.today().isoformat(), "outcome": outcome},
                                                     indent=1) + "\n")
    return outcome


def write_report(records: dict[str, dict | None], command: str) -> None:
    lines = ["# Mutation testing of the core modules", "",
             "Command: `.venv/bin/python bench/mutation.py [MODULE ...]` (`pip install -e '.[test,mutation]'` "
             "first; mutmut 3.8.1, one module at a time against its fast tests; `--list` shows them). "
             f"This file was last written by `{command}` on {dt.date.today().isoformat()}, from the last run "
             "of each module (its date in the table; the runs are kept in bench/mutation/*.json); "
             "2 shared cores, under `nice`. Not part of .ci/run.", "",
             "Score = killed / (killed + survived); timeouts count as killed (the mutant hangs a test), "
             "mutants no test reaches count as survived. Equivalent mutants (explained below) are "
             "counted both ways.", "",
             "| module | tests | run on | mutants | killed | survived | equivalent | score | score without equivalent |",
             "|---|---|---|---|---|---|---|---|---|"]
    total_k = total_s = total_e = 0
    survivors = []
    for module, saved in records.items():
        if not saved:
            lines.append(f"| `{module}` | {', '.join(MODULES[module])} | not run | | | | | | |")
            continue
        counts = saved["counts"]
        killed = sum(n for status, n in counts.items() if status in KILLED)
        alive = list(saved["survivors"])
        unfinished = sum(n for status, n in counts.items() if status not in KILLED + ALIVE)
        equivalent = [n for n in alive if n in EQUIVALENT]
        total_k, total_s, total_e = total_k + killed, total_s + len(alive), total_e + len(equivalent)
        score = killed / (killed + len(alive)) if killed + len(alive) else 1.0
        without = killed / (killed + len(alive) - len(equivalent)) if killed + len(alive) - len(equivalent) else 1.0
        mutants = f"{sum(counts.values())}" + (f" ({unfinished} not run)" if unfinished else "")
        lines.append(f"| `{module}` | {', '.join(saved['tests'])} | {saved['date']} | {mutants} | {killed} | "
                     f"{len(alive)} | {len(equivalent)} | {score:.0%} | {without:.0%} |")
        survivors += [(name, saved["survivors"][name]) for name in alive]
    if total_k + total_s:
        lines.append(f"| **all run** | | | {total_k + total_s} | {total_k} | {total_s} | {total_e} | "
                     f"**{total_k / (total_k + total_s):.0%}** | **{total_k / max(1, total_k + total_s - total_e):.0%}** |")
    lines += ["", "## The five planted bugs of issue 16", ""]
    planted_file = RECORDS / "planted.json"
    if planted_file.exists():
        last = json.loads(planted_file.read_text())
        lines += [f"`python bench/mutation.py --planted`, run on {last['date']}: each bug planted alone in a copy "
                  "of the package, its tests run against it (and, first, against the unchanged copy: they pass).",
                  "", "| bug | tests | verdict |", "|---|---|---|"]
        for title, tests, ok in last["outcome"]:
            expected = "all pass" if title.startswith("control") else "all fail: caught"
            lines.append(f"| {title} | {'<br>'.join(f'`{t}`' for t in tests)} | {expected if ok else '**NO**'} |")
    else:
        lines.append("Not run yet: `python bench/mutation.py --planted`.")
    lines += ["", NOTES, "", "## Surviving mutants", ""]
    for name, survivor in survivors:
        reason = EQUIVALENT.get(name) or KILLED_SINCE.get(name) or "not explained yet: a test is missing"
        lines.append(f"- `{name}` ({survivor['status']}): `{survivor['diff']}`. {reason}")
    RESULTS.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="paths from MODULES (default: all)")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    parser.add_argument("--planted", action="store_true", help="plant the five bugs of issue 16, one at a time")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the last runs")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results of these modules")
    parser.add_argument("--survivors", action="store_true", help="run again only the last run's survivors")
    parser.add_argument("--children", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--only", nargs="+", default=(), metavar="PATTERN",
                        help="only the mutants not killed yet (with --survivors: the survivors) whose name "
                             "matches one of these")
    args = parser.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(module, " ".join(tests))
        return 0
    if args.planted:
        return 0 if all(ok for _, _, ok in planted()) else 1
    chosen = args.modules or list(MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        parser.error(f"not in MODULES: {', '.join(unknown)}")
    records = {}
    for module in MODULES:
        if module in chosen and not args.report_only:
            records[module] = run_module(module, args.fresh, args.survivors, args.children, tuple(args.only))
        else:
            # The saved runs are the record: a work folder may hold mutants of older source.
            records[module] = saved_record(module)
    write_report(records, "python bench/mutation.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    print(f"written: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
