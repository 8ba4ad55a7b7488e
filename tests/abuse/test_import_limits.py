"""Issue 13, point 10: hostile import files end with one line naming the file and the limit.

Each import runs as the real command, in a subprocess with a memory cap (a runaway read fails
instead of filling the machine) and a time cap (a blocking read fails instead of hanging).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from widget_server.settings import PROJECT_ROOT

MEMORY_CAP = 1536 * 1024 * 1024


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _import(dataset: Path, file: Path | str, kind: str = "formations") -> subprocess.CompletedProcess:
    env = {"WIDGET_DATASET": str(dataset), "WIDGET_IMPORT_MAX_MB": "2", "PATH": "/usr/bin:/bin"}
    try:
        return subprocess.run([sys.executable, "-m", "widget_server", "data", "import", kind, str(file)],
                              env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30,
                              preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the import of {file} did not end within 30 s")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def dataset(abuse_dataset: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "dataset.sqlite"
    shutil.copy(abuse_dataset, copy)
    return copy


def _hostile(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """(the file, a word its error must contain)."""
    if kind == "deep_json":
        path = tmp_path / "deep.json"
        path.write_text('{"formations": ' + "[" * 200_000 + "]" * 200_000 + "}")
        return path, "imbrication"
    if kind == "huge_number":
        path = tmp_path / "number.json"
        path.write_text('{"formations": [{"id": ' + "7" * 5_000 + "}]}")
        return path, "chiffres"
    if kind == "gzip_bomb":
        path = tmp_path / "bomb.json.gz"
        with gzip.open(path, "wb", compresslevel=9) as out:
            chunk = b" " * (1 << 20)
            for _ in range(64):                       # 64 MB of spaces in about 64 KB
                out.write(chunk)
        return path, "WIDGET_IMPORT_MAX_MB"
    if kind == "too_big":
        path = tmp_path / "big.csv"
        path.write_bytes(b"a,b\n" + b"1,2\n" * 1_000_000)
        return path, "WIDGET_IMPORT_MAX_MB"
    if kind == "fifo":
        path = tmp_path / "pipe.json"
        os.mkfifo(path)
        return path, "ordinaire"
    return Path("/dev/zero"), "ordinaire"


@pytest.mark.parametrize("kind", ["deep_json", "huge_number", "gzip_bomb", "too_big", "fifo", "dev_zero"])
def test_hostile_files_end_with_one_line_and_leave_the_dataset(dataset: Path, tmp_path: Path, kind: str) -> None:
    file, word = _hostile(tmp_path, kind)
    before = _digest(dataset)
    run = _import(dataset, file)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr[-2000:]
    assert file.name in lines[0] and word in lines[0]
    assert _digest(dataset) == before
