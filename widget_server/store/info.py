"""What `widget-server data info` says about a dataset file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from widget_server.store.database import connect_readonly
from widget_server.store.schema import ITEM_KINDS


def dataset_info(path: Path) -> dict[str, Any]:
    conn = connect_readonly(path)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        sources = [
            {"name": n, "rows": r, "version": v, "sha256": s[:12]}
            for n, s, r, v in conn.execute("SELECT name, sha256, rows, version FROM source_file ORDER BY name")
        ]
    finally:
        conn.close()
    kinds = {}
    for kind in ITEM_KINDS:
        total = int(meta.get(f"count.{kind}", 0))
        demo = int(meta.get(f"count.{kind}.demo", 0))
        kinds[kind] = {"count": total, "demo": demo, "demo_share": round(demo / total, 3) if total else 0.0}
    steps: dict[str, dict[str, Any]] = {}
    for key, value in meta.items():
        step, _, fact = key.partition(".")
        if step in ("count", "import") or not fact:
            continue
        try:
            steps.setdefault(step, {})[fact] = json.loads(value)
        except ValueError:
            steps.setdefault(step, {})[fact] = value
    return {
        "path": str(path),
        "catalogue": _catalogue_summary(meta, kinds["formation"]),
        "size_bytes": path.stat().st_size,
        "version": meta.get("version"),
        "scale": meta.get("scale"),
        "built_at": meta.get("built_at"),
        "build_seconds": float(meta.get("build_seconds", 0)),
        "items": kinds,
        "reference": {t: int(meta.get(f"count.{t}", 0)) for t in ("rome", "appellation", "diploma", "commune", "naf")},
        "steps": steps,
        "imports": {k[len("import."):]: json.loads(v) for k, v in meta.items() if k.startswith("import.")},
        "sources": sources,
    }


def _catalogue_summary(meta: dict[str, str], formations: dict[str, Any]) -> dict[str, Any] | None:
    """The real trainings at a glance: how many, from which sources, and what they carry."""
    if "catalogue.trainings" not in meta:
        return None
    reasons = json.loads(meta.get("catalogue.reasons", "{}"))
    return {
        "real_trainings": formations["count"] - formations["demo"],
        "by_sources": json.loads(meta.get("catalogue.by_sources", "{}")),
        "share_with_rome": float(meta.get("catalogue.share_with_rome", 0)),
        "without_rome": reasons.get("no_rome", {}),
        "share_with_outcomes": float(meta.get("catalogue.share_with_outcomes", 0)),
        "share_exact_position": float(meta.get("catalogue.share_exact_position", 0)),
        "precision": json.loads(meta.get("catalogue.precision", "{}")),
        "with_contact_email": int(meta.get("catalogue.with_email", 0)),
        "with_onisep_page": int(meta.get("catalogue.with_onisep", 0)),
    }


def format_info(info: dict[str, Any]) -> str:
    lines = [
        f"Dataset {info['path']} ({info['size_bytes'] / 1e6:.1f} MB)",
        f"  version {info['version']}, scale {info['scale']}, built {info['built_at']}"
        f" in {info['build_seconds']:.1f} s",
        "  items:",
    ]
    for kind, c in info["items"].items():
        lines.append(f"    {kind:<10} {c['count']:>8}  (demo: {c['demo']}, {c['demo_share']:.0%})")
    lines.append("  reference: " + ", ".join(f"{k}={v}" for k, v in info["reference"].items()))
    if c := info.get("catalogue"):
        lines += [
            f"  real trainings: {c['real_trainings']} (merged from: "
            + ", ".join(f"{k} {v}" for k, v in sorted(c["by_sources"].items(), key=lambda kv: -kv[1])) + ")",
            f"    with ROME codes {c['share_with_rome']:.1%}; without, by reason: "
            + (", ".join(f"{k} {v}" for k, v in c["without_rome"].items()) or "none"),
            f"    with outcomes (InserJeunes) {c['share_with_outcomes']:.1%}; exact position "
            f"{c['share_exact_position']:.1%} (" + ", ".join(f"{k} {v}" for k, v in c["precision"].items()) + ")",
            f"    with a contact address {c['with_contact_email']}; with an ONISEP page {c['with_onisep_page']}",
        ]
    for step, facts in info["steps"].items():
        lines.append(f"  {step}:")
        for fact, value in facts.items():
            lines.append(f"    {fact}: {json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value}")
    for kind, facts in info["imports"].items():
        lines.append(f"  import {kind}: {json.dumps(facts, ensure_ascii=False)}")
    lines.append("  source files:")
    for s in info["sources"]:
        lines.append(f"    {s['name']:<62} {s['rows']:>7} rows  {s['version']}  sha256:{s['sha256']}")
    return "\n".join(lines)
