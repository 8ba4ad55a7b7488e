"""Which métiers (ROME codes) a company is predicted to hire apprentices for.

La Bonne Boîte's model gives each establishment one hiring score (0..100); the
NAF -> ROME mapping says how a sector's hirings split over métiers.  A company is
shown for métier r when its score, spread by that split, stays high enough:

    score / 100 x share(NAF -> r) >= ROME_SHARE_THRESHOLD

One rule, used by both the recruiters importer and the demo generator, so that
demo and real recruiters are tagged alike.
"""

from __future__ import annotations

import sqlite3
from typing import Mapping

# 0.03: a top-scored company (100) is shown for every métier making 3 % or more of its
# sector's hirings; a middling one (50) only for those making 6 % or more.  On La Bonne
# Boîte's Metz file this gives about 4 métiers per company (at most 12) and 7 companies
# in 8 get at least one; the demo generator was calibrated on the same value.
ROME_SHARE_THRESHOLD = 0.03

NafRomeShares = Mapping[str, Mapping[str, float]]   # NAF code -> {ROME v3 code: share of hirings}


def predicted_romes(naf: str, score: float, naf_rome_shares: NafRomeShares) -> list[str]:
    """ROME codes predicted for a company of sector `naf` with hiring score `score` (0..100).

    Ordered by decreasing share (then code, so the result never depends on dict order).
    """
    shares = naf_rome_shares.get(naf) or {}
    kept = [(rome, share) for rome, share in shares.items() if score / 100 * share >= ROME_SHARE_THRESHOLD]
    return [rome for rome, _ in sorted(kept, key=lambda rs: (-rs[1], rs[0]))]


def load_naf_rome_shares(conn: sqlite3.Connection) -> dict[str, dict[str, float]]:
    """The `naf_rome` table of a dataset, as predicted_romes() wants it."""
    shares: dict[str, dict[str, float]] = {}
    for naf, rome, share in conn.execute("SELECT naf, rome, share FROM naf_rome ORDER BY naf, rome"):
        shares.setdefault(naf, {})[rome] = share
    return shares
