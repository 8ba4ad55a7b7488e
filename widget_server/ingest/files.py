"""Reading the shipped data files, compressed or not, and fingerprinting them."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from pathlib import Path
from typing import Iterator


def resolve(data_dir: Path, name: str) -> Path:
    """The path of data file `name`, which may be stored gzipped as `name.gz`."""
    plain = data_dir / name
    if plain.exists():
        return plain
    packed = data_dir / (name + ".gz")
    if packed.exists():
        return packed
    raise FileNotFoundError(f"data file {name} not found in {data_dir} (nor {name}.gz)")


def read_text(path: Path, encoding: str = "utf-8-sig") -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode(encoding)


def read_csv(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    """Rows of a CSV file as dicts (BOM stripped, gzip handled)."""
    text = read_text(path)
    yield from csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)


def sha256(path: Path) -> str:
    """Fingerprint of the file's *content* (gzip envelope excluded)."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return hashlib.sha256(raw).hexdigest()
