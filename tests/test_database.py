"""Hot swap of the dataset file: a snapshot keeps reading its own file, new requests see the new one."""

from __future__ import annotations

import os
import shutil
import threading

from datasets import LYON, build, formation
from widget_server.store.database import DatasetHolder


def count_in_thread(dataset) -> int:
    out = []
    def work() -> None:
        with dataset.connection() as conn:
            out.append(conn.execute("SELECT count(*) FROM formation").fetchone()[0])

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return out[0]


def test_a_snapshot_never_mixes_old_and_new(tmp_path, data_dir):
    old = build(tmp_path / "old.sqlite", data_dir, formations=[formation("a", LYON, ["D1102"])])
    new = build(tmp_path / "new.sqlite", data_dir,
                formations=[formation("a", LYON, ["D1102"]), formation("b", LYON, ["D1102"])])
    serving = tmp_path / "serving.sqlite"
    shutil.copy(old, serving)
    holder = DatasetHolder(serving, loaders={}, reload_interval=1e-9)
    before = holder.load()
    assert count_in_thread(before) == 1

    copy = tmp_path / "incoming.sqlite"
    shutil.copy(new, copy)
    os.replace(copy, serving)        # what build and import do

    after = holder.get()
    assert after is not before
    assert count_in_thread(after) == 2
    # The request that started before the swap still reads the old dataset, in every thread.
    assert before.conn.execute("SELECT count(*) FROM formation").fetchone()[0] == 1
    assert count_in_thread(before) == 1


def test_a_broken_replacement_keeps_the_current_dataset(tmp_path, data_dir):
    serving = build(tmp_path / "serving.sqlite", data_dir, formations=[formation("a", LYON, ["D1102"])])
    holder = DatasetHolder(serving, loaders={}, reload_interval=1e-9)
    current = holder.load()
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database")
    os.replace(broken, serving)
    assert holder.get() is current
