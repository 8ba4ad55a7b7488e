"""What an import file must be before any reader touches it: a regular file, within a size cap.

A FIFO would block the import forever, /dev/zero would fill the memory, a gzip bomb (a few KB
that inflate to gigabytes) too: each is refused here with one line naming the file and the limit
(WIDGET_IMPORT_MAX_MB), before a byte is kept in memory. The gzip check streams the inflation and
keeps nothing, so its memory stays bounded whatever the file claims.
"""

from __future__ import annotations

import os
import stat
import zlib
from pathlib import Path

from widget_server.ingest.report import ImportFailed

_CHUNK = 1 << 20


def check_file(path: Path, max_bytes: int) -> None:
    """Raise ImportFailed unless `path` is a regular file of at most `max_bytes`, gunzipped too."""
    limit = f"{max_bytes / (1024 * 1024):g} Mo (WIDGET_IMPORT_MAX_MB)"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImportFailed(f"Fichier introuvable : {path}. Vérifiez le chemin.") from None
    except OSError as exc:
        raise ImportFailed(f"Impossible de lire le fichier {path} : {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImportFailed(f"{path} est un dossier : donnez le chemin d'un fichier.")
    if not stat.S_ISREG(info.st_mode):
        raise ImportFailed(f"{path} n'est pas un fichier ordinaire (tube, périphérique…) : "
                           "copiez les données dans un fichier puis importez-le.")
    if info.st_size > max_bytes:
        raise ImportFailed(f"{path.name} fait {info.st_size / (1024 * 1024):.0f} Mo : la limite est {limit}.")
    with open(path, "rb") as handle:
        if handle.read(2) != b"\x1f\x8b":
            return
        handle.seek(0)
        inflated = _inflated_size(handle, max_bytes)
    if inflated > max_bytes:
        raise ImportFailed(f"{path.name} décompressé dépasse la limite de {limit} : "
                           "découpez le fichier ou relevez la limite.")


def _inflated_size(handle, max_bytes: int) -> int:  # type: ignore[no-untyped-def]
    """Bytes the gzip stream inflates to, counting stops just past `max_bytes`; damaged streams count 0
    (the reader then reports them as damaged)."""
    total = 0
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = b""
    try:
        while True:
            if not pending:
                pending = handle.read(_CHUNK)
                if not pending:
                    return total
            total += len(inflater.decompress(pending, _CHUNK))   # at most _CHUNK bytes in memory
            if total > max_bytes:
                return total
            if inflater.eof:   # concatenated members: gzip.decompress reads them all, so count them all
                pending = inflater.unused_data
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                pending = inflater.unconsumed_tail
    except zlib.error:
        return 0
