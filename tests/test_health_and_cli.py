"""/healthz, the command line, and documentation of every setting."""

from __future__ import annotations

import json
import subprocess
import sys

from widget_server.settings import PROJECT_ROOT, Settings


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert len(body["dataset"]["version"]) == 12
    assert body["dataset"]["built_at"]
    assert body["counts"]["rome"] == 1584
    assert body["counts"]["commune"] > 30000
    assert r.headers["cache-control"] == "no-store"


def test_cli_info_reports_counts(dataset_path):
    out = subprocess.run(
        [sys.executable, "-m", "widget_server", "data", "info", "--json"],
        env={"WIDGET_DATASET": str(dataset_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    ).stdout
    info = json.loads(out)
    assert info["reference"]["rome"] == 1584
    assert set(info["items"]) == {"formation", "offer", "recruiter"}
    assert any(s["name"].startswith("rome/") for s in info["sources"])
    catalogue = info["catalogue"]
    assert catalogue["real_trainings"] >= 35_000
    assert {"onisep_2023", "rco_2020_11"} <= {s for combo in catalogue["by_sources"] for s in combo.split("+")}
    assert catalogue["share_with_rome"] >= 0.95 and catalogue["share_with_outcomes"] >= 0.8
    assert catalogue["share_exact_position"] >= 0.5
    assert sum(catalogue["precision"].values()) == catalogue["real_trainings"]


def test_cli_info_says_the_catalogue_in_words(dataset_path):
    out = subprocess.run(
        [sys.executable, "-m", "widget_server", "data", "info"],
        env={"WIDGET_DATASET": str(dataset_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    ).stdout
    assert "real trainings: " in out and "with ROME codes" in out and "without, by reason" in out
    assert "with outcomes (InserJeunes)" in out and "exact position" in out


def test_cli_rejects_a_bad_setting():
    proc = subprocess.run(
        [sys.executable, "-m", "widget_server", "data", "info"],
        env={"WIDGET_RELOAD_INTERVAL": "soon", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "WIDGET_RELOAD_INTERVAL" in proc.stderr and "soon" in proc.stderr


def test_every_setting_is_documented_in_the_readme():
    from widget_server.sources.france_travail import FranceTravailSettings

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    declared = Settings.documented() + FranceTravailSettings.documented()
    missing = [env for env, _, _ in declared if f"`{env}`" not in readme]
    assert missing == []


def test_every_route_is_documented_in_the_readme():
    from widget_server.app import routes

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [r.path for r in routes() if f"GET {r.path}" not in readme]
    assert missing == []
