"""The `widget-server` command: serve, and manage the dataset."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from widget_server.ingest.build import SCALES, build_dataset
from widget_server.store.schema import SCHEMA_VERSION
from widget_server.settings import Settings, SettingError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="widget-server", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the widget and the API (builds the dataset first if missing)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    data = sub.add_parser("data", help="build, inspect or import into the dataset")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    build = data_sub.add_parser("build", help="build the dataset from data/ (atomically)")
    build.add_argument("--scale", choices=SCALES, default="default",
                       help="'national' adds generated records up to national size, for benchmarks")
    build.add_argument("--output", type=Path, help="where to write it (default: the WIDGET_DATASET setting)")
    info = data_sub.add_parser("info", help="describe the dataset")
    info.add_argument("--json", action="store_true", help="print machine-readable JSON")
    _add_import_parser(data_sub)

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingError as exc:
        print(f"widget-server: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.data_command == "build":
        return _build(settings, args.scale, args.output)
    if args.data_command == "info":
        return _info(settings, args.json)
    if args.data_command == "import":
        return _import(settings, args)
    parser.error("unknown command")
    return 2


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    from widget_server.partners import PartnerRegistry
    from widget_server.sources.france_travail import FranceTravailSettings

    try:
        # Configuration mistakes get one clear line here, not a traceback from a worker.
        PartnerRegistry.from_settings(settings)
        FranceTravailSettings.from_env()
    except (SettingError, ValueError, OSError) as exc:
        print(f"widget-server: {exc}", file=sys.stderr)
        return 2
    if not settings.dataset_path.exists():
        print(f"No dataset at {settings.dataset_path}: building it first.", file=sys.stderr)
        _build(settings, "default", None)
    elif _schema_version(settings.dataset_path) != str(SCHEMA_VERSION):
        # A dataset left by an older version of the code: this code cannot read it.
        print(f"Dataset {settings.dataset_path} has an older schema: rebuilding it.", file=sys.stderr)
        _build(settings, "default", None)
    from widget_server.serving import serve

    serve(settings, host, port, workers)
    return 0


def _schema_version(path: Path) -> str | None:
    import sqlite3

    from widget_server.store.database import connect_readonly

    try:
        conn = connect_readonly(path)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _build(settings: Settings, scale: str, output: Path | None) -> int:
    destination = output or settings.dataset_path
    started = time.perf_counter()
    meta = build_dataset(settings.data_dir, destination, scale=scale)
    counts = ", ".join(f"{k[len('count.'):]}={v}" for k, v in sorted(meta.items())
                       if k.startswith("count.") and not k.endswith(".demo"))
    print(f"Built {destination} (version {meta['version']}, scale {scale}) "
          f"in {time.perf_counter() - started:.1f} s: {counts}")
    return 0


def _info(settings: Settings, as_json: bool) -> int:
    from widget_server.store.info import dataset_info, format_info

    if not settings.dataset_path.exists():
        print(f"No dataset at {settings.dataset_path}; run `widget-server data build`.", file=sys.stderr)
        return 1
    info = dataset_info(settings.dataset_path)
    print(json.dumps(info, ensure_ascii=False, indent=2) if as_json else format_info(info))
    return 0


def _add_import_parser(data_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from widget_server.ingest.importer import add_import_arguments

    add_import_arguments(data_sub.add_parser("import", help="import real data into the dataset (atomically)"))


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from widget_server.ingest.importer import run_import_command

    return run_import_command(settings.dataset_path, args, max_mb=settings.import_max_mb)
