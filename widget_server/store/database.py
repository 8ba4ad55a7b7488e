"""Read-only access to the dataset file, and hot swapping when the file is replaced.

The file is opened with `mode=ro&immutable=1` (Datasette's pattern): no locks,
any number of processes can share it.  A new dataset arrives by atomic rename,
so an open connection keeps reading the old inode until we switch; each request
takes one `Dataset` snapshot and uses it throughout, so it never mixes old and new.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

# Connections opened with each dataset for worker threads (search sources run
# in threads).  They are opened together with the main one, before anything can
# replace the file, so every connection of a snapshot reads the same inode.
POOL_SIZE = 6

from widget_server.errors import DatasetUnavailable


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open a dataset file read-only; fails if it does not exist."""
    if not path.exists():
        raise FileNotFoundError(f"dataset {path} does not exist; run `widget-server data build`")
    uri = f"file:{path.resolve()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    return conn


@dataclass
class Dataset:
    """One opened dataset file and what was derived from it at load time."""

    path: Path
    conn: sqlite3.Connection
    meta: dict[str, str]
    file_id: tuple[int, int, int]  # (device, inode, mtime_ns): changes when the file is replaced
    extensions: dict[str, Any] = field(default_factory=dict)
    pool: "queue.Queue[sqlite3.Connection]" = field(default_factory=queue.Queue)

    @property
    def version(self) -> str:
        return self.meta.get("version", "unknown")

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow one of this snapshot's connections for the calling thread."""
        conn = self.pool.get()
        try:
            yield conn
        finally:
            self.pool.put(conn)

    def counts(self) -> dict[str, int]:
        return {k[len("count."):]: int(v) for k, v in self.meta.items() if k.startswith("count.")}


def _file_id(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def _open_snapshot(path: Path) -> tuple[tuple[int, int, int], list[sqlite3.Connection]]:
    """All the connections of one snapshot, guaranteed to read the same file."""
    for _ in range(5):
        before = _file_id(path)
        conns = [connect_readonly(path) for _ in range(POOL_SIZE + 1)]
        for conn in conns:
            conn.execute("SELECT count(*) FROM meta").fetchone()
        if _file_id(path) == before:
            return before, conns
        for conn in conns:   # replaced while we were opening: start again
            conn.close()
    raise sqlite3.OperationalError(f"dataset {path} keeps changing; try again")


def open_dataset(path: Path, loaders: dict[str, Callable[[sqlite3.Connection], Any]]) -> Dataset:
    """Open `path` and run each loader (e.g. build the autocomplete indexes) on it."""
    file_id, conns = _open_snapshot(path)
    conn = conns[0]
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    dataset = Dataset(path=path, conn=conn, meta=meta, file_id=file_id)
    for extra in conns[1:]:
        dataset.pool.put(extra)
    for name, load in loaders.items():
        dataset.extensions[name] = load(conn)
    return dataset


class DatasetHolder:
    """Holds the current Dataset and swaps in a new one when the file is replaced."""

    def __init__(self, path: Path, loaders: dict[str, Callable[[sqlite3.Connection], Any]],
                 reload_interval: float = 1.0) -> None:
        self.path = path
        self.loaders = loaders
        self.reload_interval = reload_interval
        self._current: Dataset | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def load(self) -> Dataset:
        self._current = open_dataset(self.path, self.loaders)
        self._checked_at = time.monotonic()
        return self._current

    def get(self) -> Dataset:
        """The dataset to use for one request (reloaded first if the file changed)."""
        current = self._current
        if current is None:
            raise DatasetUnavailable("le jeu de données n'est pas chargé")
        if self.reload_interval and time.monotonic() - self._checked_at >= self.reload_interval:
            self._maybe_reload(current)
        return self._current or current

    def _maybe_reload(self, current: Dataset) -> None:
        with self._lock:
            self._checked_at = time.monotonic()
            try:
                if _file_id(self.path) == current.file_id:
                    return
                self._current = open_dataset(self.path, self.loaders)
            except (OSError, sqlite3.Error):
                # A file being replaced or unreadable: keep serving what we have.
                return
