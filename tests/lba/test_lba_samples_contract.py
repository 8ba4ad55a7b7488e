"""Every field of La Bonne Alternance's real answers (data/samples/lba_api_v1_*.json) exists in ours, same JSON type.

LBA itself answered null for what it did not know (the samples show it): a null on
either side matches any type; a value on both sides must have the same JSON type,
and the fields a client displays must hold a value in ours.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from widget_server.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "data" / "samples"
PARAMS = {"caller": "contrat", "romes": "D1102", "latitude": "45.76", "longitude": "4.83", "radius": "30",
          "insee": "69123"}
FILLED = {"ideaType", "title", "place.distance", "place.fullAddress", "place.city", "place.latitude",
          "place.longitude", "company.name", "company.siret", "romes", "romes.code"}


def _kind(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}[type(value)]


def _fields(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path, inner
            yield from _fields(inner, path)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for inner in value:
            yield from _fields(inner, prefix)


def _values(item: Any, path: str) -> list[Any]:
    """Every value at `path` in our item (lists are walked)."""
    current = [item]
    for key in path.split("."):
        nxt = []
        for v in current:
            for w in (v if isinstance(v, list) else [v]):
                if isinstance(w, dict) and key in w:
                    nxt.append(w[key])
        current = nxt
    return current


def _check(sample_items: list[dict[str, Any]], ours: list[dict[str, Any]]) -> None:
    assert ours, "our answer has no item of this kind"
    for sample in sample_items:
        for path, value in _fields(sample):
            found = [v for item in ours for v in _values(item, path)]
            if not found and path.startswith("company.") and sample.get("company") == {}:
                continue
            assert found or _parent_null(ours, path), f"{path} missing from our answer"
            if value is None:
                continue
            typed = [v for v in found if v is not None]
            assert all(_kind(v) == _kind(value) for v in typed), f"{path}: {_kind(value)} there, ours {typed[:3]}"
            if path in FILLED:
                assert typed, f"{path} is never filled in ours"


def _parent_null(ours: list[dict[str, Any]], path: str) -> bool:
    """A nested field of an object LBA allowed to be null (contact, headquarter...) that is null in ours."""
    parent = path.rsplit(".", 1)[0]
    return "." in path and all(v is None for item in ours for v in _values(item, parent))


@pytest.fixture(scope="module")
def combined(client) -> dict[str, Any]:
    return client.get("/api/v1/jobsEtFormations", params=PARAMS).json()


def test_formation_fields(client, combined):
    sample = json.loads((SAMPLES / "lba_api_v1_formations.json").read_text(encoding="utf-8"))["results"]
    _check(sample, combined["formations"]["results"])
    alone = client.get("/api/v1/formations", params={k: v for k, v in PARAMS.items() if k != "insee"}).json()
    _check(sample, alone["results"])


@pytest.mark.parametrize("bucket", ["peJobs", "lbaCompanies"])
def test_job_fields(client, bucket):
    sample = json.loads((SAMPLES / "lba_api_v1_jobs.json").read_text(encoding="utf-8"))[bucket]["results"]
    ours = client.get("/api/v1/jobs", params={**PARAMS, "radius": "20000"}).json()[bucket]["results"]
    _check(sample, ours)


def test_the_bucket_keys_are_lbas(client):
    sample = json.loads((SAMPLES / "lba_api_v1_jobs.json").read_text(encoding="utf-8"))
    ours = client.get("/api/v1/jobs", params=PARAMS).json()
    assert set(ours) == set(sample)
    assert all(set(ours[k]) == {"results"} for k in sample)
